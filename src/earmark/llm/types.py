"""Plain domain objects of the LLM layer: messages, requests, responses, stream deltas.

They are provider-neutral (no wire format, no web framework). Providers translate them to
and from their own APIs; the gateway translates them to and from the OpenAI /
AssemblyAI wire shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ChatDelta",
    "ChatRequest",
    "ChatResponse",
    "FinishReason",
    "Message",
    "ResponseFormat",
    "TokenLogprob",
    "Usage",
]

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "content_filter", "tool_calls"]


@dataclass(frozen=True)
class Message:
    """One chat message with plain-text content."""

    role: str
    content: str


@dataclass(frozen=True)
class ResponseFormat:
    """What shape the answer must have.

    type: ``"text"`` (free), ``"json_object"`` (any JSON object) or ``"json_schema"``.
    schema: the JSON schema when ``type == "json_schema"``.
    name: the schema's name (OpenAI requires one on the wire).
    strict: ask OpenAI-compatible servers for strict schema adherence.
    """

    type: Literal["text", "json_object", "json_schema"] = "text"
    schema: dict[str, Any] | None = None
    name: str = "response"
    strict: bool = False


@dataclass(frozen=True)
class ChatRequest:
    """A chat completion request, addressed to a provider's (upstream) model.

    max_tokens: most tokens to generate.
    temperature: ``None`` uses the provider's default; 0 is greedy.
    stop: sequences that end the answer (not included in it).
    logprobs / top_logprobs: ask for per-token log-probabilities where supported.
    """

    model: str
    messages: tuple[Message, ...]
    max_tokens: int = 1000
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    response_format: ResponseFormat | None = None
    logprobs: bool = False
    top_logprobs: int = 0


@dataclass(frozen=True)
class Usage:
    """Token counts of one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability and the most likely alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ChatResponse:
    """A complete answer."""

    content: str
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    logprobs: tuple[TokenLogprob, ...] | None = None


@dataclass(frozen=True)
class ChatDelta:
    """One piece of a streamed answer. The last delta has ``finish_reason`` and ``usage``."""

    content: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None

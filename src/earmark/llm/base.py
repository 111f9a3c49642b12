"""The provider seam: one small interface that every LLM backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from earmark.errors import ContextLengthError
from earmark.llm.types import ChatDelta, ChatRequest, ChatResponse

__all__ = ["Provider", "ProviderConfig", "check_context", "estimate_tokens"]


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach a provider.

    base_url: the API root (``None`` = the provider's default from the settings).
    api_key: the credential, already read from its environment variable (may be empty).
    timeout_s: per-request timeout; retries: extra attempts on 429/5xx, with backoff.
    context_length: the model's context window in tokens, when known (route config).
    model_path: the GGUF file of the local provider (``None`` = the bundled model).
    threads: CPU threads of the local provider (0 = one per core).
    n_ctx: context size of the local provider (0 = the model's own, capped at 8192).
    """

    base_url: str | None = None
    api_key: str = ""
    timeout_s: float = 120.0
    retries: int = 2
    context_length: int | None = None
    model_path: str | None = None
    threads: int = 0
    n_ctx: int = 0


class Provider(ABC):
    """A way to run chat completions.

    Subclasses implement :meth:`chat` and usually :meth:`stream`. Capabilities are
    class flags so callers (the LLM tagger) can pick the best strategy.
    """

    name: str = "provider"
    supports_json_schema: bool = False
    """True when ``response_format`` with a JSON schema is enforced (not just hinted)."""
    supports_logprobs: bool = False
    """True when ``ChatRequest.logprobs`` is honoured."""

    @abstractmethod
    def chat(self, request: ChatRequest) -> ChatResponse:
        """Run one completion to the end."""

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        """Yield the answer in pieces; the default yields the whole answer once."""
        response = self.chat(request)
        yield ChatDelta(content=response.content)
        yield ChatDelta(finish_reason=response.finish_reason, usage=response.usage)

    def context_length(self, model: str) -> int | None:
        """The model's context window in tokens, or ``None`` when unknown."""
        return None

    def score_choices(self, request: ChatRequest, choices: Sequence[str]) -> list[float] | None:
        """Log-likelihood of each choice as the complete assistant answer to ``request``.

        Returns ``None`` when the provider cannot score (only the local provider can).
        """
        return None

    def close(self) -> None:
        """Release connections or models; the provider may not be used afterwards."""
        return None


def estimate_tokens(text: str) -> int:
    """A rough token count for providers that cannot tokenize locally (4 chars per token)."""
    return (len(text) + 3) // 4


def check_context(request: ChatRequest, context_length: int | None) -> None:
    """Raise :class:`ContextLengthError` when the prompt alone cannot fit the context.

    Used for remote providers, where the prompt size is estimated (about 4 characters per
    token); the upstream still has the last word.
    """
    if not context_length:
        return
    prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in request.messages)
    if prompt_tokens >= context_length:
        raise ContextLengthError(
            f"the prompt (about {prompt_tokens} tokens with the transcript) exceeds the "
            f"context of model {request.model!r} ({context_length} tokens); shorten the "
            "prompt or the transcript, or route to a model with a longer context"
        )

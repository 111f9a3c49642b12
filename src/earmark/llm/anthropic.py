"""The ``anthropic`` provider: the native Anthropic Messages API (``POST /v1/messages``).

System messages are lifted into the top-level ``system`` field, consecutive messages of
the same role are merged (the API requires alternation), ``stop`` becomes
``stop_sequences``, and ``stop_reason``/``usage`` are mapped back to OpenAI terms.
A JSON schema in ``response_format`` is passed as an instruction in the system prompt
(not enforced), so the LLM tagger validates the answer itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from earmark.errors import UpstreamError
from earmark.llm._http import HttpClient
from earmark.llm.base import Provider, ProviderConfig, check_context
from earmark.llm.types import ChatDelta, ChatRequest, ChatResponse, Usage

__all__ = ["ANTHROPIC_VERSION", "AnthropicProvider", "map_stop_reason"]

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "stop",
}


def map_stop_reason(reason: str | None) -> str:
    """Anthropic ``stop_reason`` -> OpenAI ``finish_reason``."""
    return _STOP_REASONS.get(reason or "end_turn", "stop")


class AnthropicProvider(Provider):
    """Chat completions through the Anthropic Messages API."""

    name = "anthropic"

    def __init__(
        self, config: ProviderConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.config = config
        headers = {
            "content-type": "application/json",
            "anthropic-version": ANTHROPIC_VERSION,
            "x-api-key": config.api_key,
        }
        self._http = HttpClient(
            "anthropic", config, config.base_url or DEFAULT_BASE_URL, headers, transport
        )

    def context_length(self, model: str) -> int | None:
        return self.config.context_length or 200_000

    def chat(self, request: ChatRequest) -> ChatResponse:
        """POST ``/v1/messages`` and map the answer."""
        check_context(request, self.context_length(request.model))
        data = self._http.post_json("v1/messages", _body(request, stream=False))
        blocks = data.get("content")
        if not isinstance(blocks, list):
            raise UpstreamError(f"anthropic answered without content: {str(data)[:200]}")
        text = "".join(
            str(b.get("text", ""))
            for b in blocks
            if isinstance(b, dict) and b.get("type") == "text"
        )
        return ChatResponse(
            content=text,
            finish_reason=map_stop_reason(data.get("stop_reason")),
            usage=_usage(data.get("usage")),
            model=str(data.get("model") or request.model),
        )

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        """POST with ``stream: true`` and turn the Messages events into deltas."""
        check_context(request, self.context_length(request.model))
        prompt_tokens = 0
        completion_tokens = 0
        finish = "stop"
        with self._http.stream_lines("v1/messages", _body(request, stream=True)) as lines:
            for line in lines:
                if not line.startswith("data:"):
                    continue
                try:
                    event = json.loads(line[5:].strip())
                except json.JSONDecodeError as exc:
                    raise UpstreamError(f"anthropic sent a bad event: {line[:200]!r}") from exc
                kind = event.get("type")
                if kind == "message_start":
                    usage = (event.get("message") or {}).get("usage") or {}
                    prompt_tokens = int(usage.get("input_tokens") or 0)
                elif kind == "content_block_delta":
                    delta = event.get("delta") or {}
                    if delta.get("type") == "text_delta" and delta.get("text"):
                        yield ChatDelta(content=str(delta["text"]))
                elif kind == "message_delta":
                    finish = map_stop_reason((event.get("delta") or {}).get("stop_reason"))
                    usage = event.get("usage") or {}
                    completion_tokens = int(usage.get("output_tokens") or completion_tokens)
                elif kind == "error":
                    err = event.get("error") or {}
                    raise UpstreamError(f"anthropic stream error: {err.get('message') or err}")
                elif kind == "message_stop":
                    break
        yield ChatDelta(finish_reason=finish, usage=Usage(prompt_tokens, completion_tokens))

    def close(self) -> None:
        self._http.close()


def _body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    system: list[str] = []
    messages: list[dict[str, str]] = []
    for m in request.messages:
        if m.role == "system":
            system.append(m.content)
            continue
        role = "assistant" if m.role == "assistant" else "user"
        if messages and messages[-1]["role"] == role:
            messages[-1]["content"] += "\n\n" + m.content
        else:
            messages.append({"role": role, "content": m.content})
    if not messages or messages[0]["role"] != "user":
        messages.insert(0, {"role": "user", "content": "(continue)"})
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.schema is not None:
        system.append(
            "Answer with one JSON value that matches this JSON schema, and nothing else:\n"
            + json.dumps(fmt.schema)
        )
    elif fmt is not None and fmt.type == "json_object":
        system.append("Answer with one JSON object and nothing else.")
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "stream": stream,
    }
    if system:
        body["system"] = "\n\n".join(system)
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.temperature is not None:
        body["temperature"] = min(1.0, request.temperature)
    if request.top_p is not None:
        body["top_p"] = request.top_p
    return body


def _usage(raw: object) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    return Usage(int(raw.get("input_tokens") or 0), int(raw.get("output_tokens") or 0))

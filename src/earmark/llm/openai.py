"""The ``openai`` provider: any OpenAI-compatible ``/chat/completions`` endpoint.

Works with OpenAI, Ollama, vLLM, the llama.cpp server, LM Studio, and another earmark.
The base URL includes the version path (``https://api.openai.com/v1``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from earmark.errors import InputError, UpstreamError
from earmark.llm._http import HttpClient
from earmark.llm.base import Provider, ProviderConfig, check_context
from earmark.llm.types import ChatDelta, ChatRequest, ChatResponse, TokenLogprob, Usage

__all__ = ["OpenAIProvider"]

DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"


class OpenAIProvider(Provider):
    """Chat completions over HTTP in the OpenAI wire format."""

    name = "openai"
    supports_json_schema = True
    supports_logprobs = True

    def __init__(
        self, config: ProviderConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.config = config
        headers = {"content-type": "application/json"}
        if config.api_key:
            headers["authorization"] = f"Bearer {config.api_key}"
        self._http = HttpClient(
            "openai", config, config.base_url or DEFAULT_BASE_URL, headers, transport
        )
        self._completion_tokens_param = False

    def context_length(self, model: str) -> int | None:
        return self.config.context_length

    def chat(self, request: ChatRequest) -> ChatResponse:
        """POST ``/chat/completions`` and map the answer."""
        check_context(request, self.config.context_length)
        try:
            data = self._http.post_json("chat/completions", self._body(request, stream=False))
        except InputError as exc:
            if not self._switch_token_param(exc):
                raise
            data = self._http.post_json("chat/completions", self._body(request, stream=False))
        try:
            choice = data["choices"][0]
            message = choice.get("message") or {}
            content = message.get("content") or ""
            finish = choice.get("finish_reason") or "stop"
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise UpstreamError(f"openai answered without choices: {str(data)[:200]}") from exc
        return ChatResponse(
            content=str(content),
            finish_reason=str(finish),
            usage=_usage(data.get("usage")),
            model=str(data.get("model") or request.model),
            logprobs=_logprobs(choice.get("logprobs")),
        )

    def stream(self, request: ChatRequest) -> Iterator[ChatDelta]:
        """POST with ``stream: true`` and yield the content deltas."""
        check_context(request, self.config.context_length)
        finish: str | None = None
        usage: Usage | None = None
        with self._http.stream_lines("chat/completions", self._body(request, stream=True)) as lines:
            for line in lines:
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    chunk = json.loads(payload)
                except json.JSONDecodeError as exc:
                    raise UpstreamError(
                        f"openai sent a bad stream chunk: {payload[:200]!r}"
                    ) from exc
                if chunk.get("usage"):
                    usage = _usage(chunk["usage"])
                for choice in chunk.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield ChatDelta(content=str(text))
                    if choice.get("finish_reason"):
                        finish = str(choice["finish_reason"])
        yield ChatDelta(finish_reason=finish or "stop", usage=usage or Usage())

    def _body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        body = _body(request, stream=stream)
        if self._completion_tokens_param:
            body["max_completion_tokens"] = body.pop("max_tokens")
        return body

    def _switch_token_param(self, exc: InputError) -> bool:
        """Newer OpenAI models reject ``max_tokens``: switch to ``max_completion_tokens``."""
        if self._completion_tokens_param or "max_completion_tokens" not in str(exc):
            return False
        self._completion_tokens_param = True
        return True

    def close(self) -> None:
        self._http.close()


def _body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "max_tokens": request.max_tokens,
        "stream": stream,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": fmt.name, "schema": fmt.schema or {}, "strict": fmt.strict},
        }
    elif fmt is not None and fmt.type == "json_object":
        body["response_format"] = {"type": "json_object"}
    if request.logprobs:
        body["logprobs"] = True
        if request.top_logprobs:
            body["top_logprobs"] = request.top_logprobs
    return body


def _usage(raw: object) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    prompt = raw.get("prompt_tokens", raw.get("input_tokens", 0))
    completion = raw.get("completion_tokens", raw.get("output_tokens", 0))
    return Usage(prompt_tokens=int(prompt or 0), completion_tokens=int(completion or 0))


def _logprobs(raw: object) -> tuple[TokenLogprob, ...] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("content"), list):
        return None
    out = []
    for item in raw["content"]:
        top = tuple(
            (str(t.get("token", "")), float(t.get("logprob", 0.0)))
            for t in item.get("top_logprobs") or []
        )
        out.append(TokenLogprob(str(item.get("token", "")), float(item.get("logprob", 0.0)), top))
    return tuple(out)

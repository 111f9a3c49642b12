"""The gateway's logic between the wire and the providers, kept apart from the routes.

- :func:`build_request` turns a validated body into a provider :class:`ChatRequest`
  (``prompt`` shorthand, text parts, ``{{ transcript }}`` injection, defaults).
- :func:`completion_body` / :func:`chunk_body` shape answers with both AssemblyAI's and
  OpenAI's required fields.
- :func:`model_list` builds ``GET /v1/models`` from the routes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from earmark.errors import InputError
from earmark.llm import ChatRequest, Message, ResponseFormat, Router
from earmark.llm.local import BUNDLED_MODEL_NAME
from earmark.llm.prompt import inject_transcript
from earmark.llm.router import Route
from earmark.llm.types import ChatResponse, TokenLogprob, Usage
from earmark.server.gateway.schemas import ChatCompletionIn, MessageIn

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "GatewayCall",
    "build_request",
    "chunk_body",
    "completion_body",
    "model_list",
    "new_request_id",
    "usage_body",
]

DEFAULT_MAX_TOKENS = 1000
TranscriptLoader = Callable[[str], str]
"""Returns a completed transcript's text, or raises NotFoundError/InputError."""

# Gateway model ids from AssemblyAI's docs (a snapshot), listed when a route serves them.
KNOWN_MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-5-20251101",
    "claude-haiku-4-5-20251001",
    "claude-sonnet-4-20250514",
    "claude-opus-4-20250514",
    "claude-3-haiku-20240307",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-4.1",
    "gpt-oss-120b",
    "gpt-oss-20b",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
)
_PROVIDER_NAMES = {
    "openai": "OpenAI-compatible",
    "anthropic": "Anthropic",
    "local": "earmark local",
}
_DEFAULT_CONTEXT = {"openai": 128_000, "anthropic": 200_000, "local": 8192}


def new_request_id() -> str:
    """A fresh ``req_...`` id."""
    return "req_" + uuid.uuid4().hex


@dataclass(frozen=True)
class GatewayCall:
    """A request ready for a provider, plus what the response echoes."""

    model: str
    request: ChatRequest
    stream: bool
    echo: dict[str, Any]
    injected: bool


def _content(message: MessageIn, index: int) -> str:
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise InputError(
                f"messages[{index}].content: only text parts are supported, not {part.type!r}"
            )
        texts.append(part.text)
    return "\n".join(texts)


def _response_format(raw: dict[str, Any] | None) -> ResponseFormat | None:
    if raw is None:
        return None
    kind = raw.get("type", "text")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json_object")
    if kind == "json_schema":
        spec = raw.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise InputError(
                "response_format.json_schema must be an object with a 'schema' object, e.g. "
                '{"type": "json_schema", "json_schema": {"name": "x", "schema": {...}}}'
            )
        name = str(spec.get("name") or "response")
        return ResponseFormat("json_schema", spec["schema"], name, bool(spec.get("strict")))
    raise InputError(
        f"response_format.type must be 'text', 'json_object' or 'json_schema', not {kind!r}"
    )


def build_request(
    body: ChatCompletionIn, upstream_model: str, load_transcript: TranscriptLoader
) -> GatewayCall:
    """Turn a validated body into a provider request.

    ``{{ transcript }}``: with ``transcript_id`` set, the first message that contains the
    exact literal gets its first occurrence replaced by the transcript's text. The
    transcript must exist, belong to the caller and be completed even when no message
    holds the literal.
    """
    messages = [Message(m.role, _content(m, i)) for i, m in enumerate(body.messages or [])]
    if body.prompt is not None:
        messages.append(Message("user", body.prompt))
    if not messages:
        raise InputError("either 'messages' or 'prompt' is required")
    messages = [Message("system" if m.role == "developer" else m.role, m.content) for m in messages]
    injected = False
    if body.transcript_id is not None:
        text = load_transcript(body.transcript_id)
        new, injected = inject_transcript(messages, text)
        messages = list(new)
    stop: tuple[str, ...] = ()
    if isinstance(body.stop, str):
        stop = (body.stop,)
    elif body.stop:
        stop = tuple(body.stop)
    max_tokens = body.max_tokens or body.max_completion_tokens or DEFAULT_MAX_TOKENS
    request = ChatRequest(
        model=upstream_model,
        messages=tuple(messages),
        max_tokens=max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        stop=stop,
        response_format=_response_format(body.response_format),
        logprobs=body.logprobs,
        top_logprobs=body.top_logprobs or 0,
    )
    echo = body.model_dump(exclude={"messages", "prompt"}, exclude_none=True)
    echo["max_tokens"] = max_tokens
    return GatewayCall(body.model, request, body.stream, echo, injected)


def usage_body(usage: Usage) -> dict[str, int]:
    """Token counts in both naming styles (OpenAI's and AssemblyAI's docs')."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
    }


def _logprobs_body(logprobs: tuple[TokenLogprob, ...] | None) -> dict[str, Any] | None:
    if logprobs is None:
        return None
    return {
        "content": [
            {
                "token": t.token,
                "logprob": t.logprob,
                "bytes": list(t.token.encode("utf-8")),
                "top_logprobs": [
                    {"token": a, "logprob": lp, "bytes": list(a.encode("utf-8"))} for a, lp in t.top
                ],
            }
            for t in logprobs
        ]
    }


def completion_body(
    call: GatewayCall, response: ChatResponse, request_id: str, started_ns: int
) -> dict[str, Any]:
    """The non-streaming answer: AssemblyAI's required fields plus OpenAI's."""
    return {
        "request_id": request_id,
        "id": "chatcmpl-" + request_id.removeprefix("req_"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": call.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": response.content},
                "finish_reason": response.finish_reason,
                "logprobs": _logprobs_body(response.logprobs),
            }
        ],
        "usage": usage_body(response.usage),
        "request": call.echo,
        "http_status_code": 200,
        "llm_status_code": 200,
        "response_time": time.monotonic_ns() - started_ns,
    }


def chunk_body(
    call: GatewayCall,
    request_id: str,
    *,
    content: str | None = None,
    role: bool = False,
    finish_reason: str | None = None,
    usage: Usage | None = None,
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` of a stream."""
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    body: dict[str, Any] = {
        "id": "chatcmpl-" + request_id.removeprefix("req_"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": call.model,
        "request_id": request_id,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    if usage is not None:
        body["usage"] = usage_body(usage)
    return body


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _model_entry(model: str, route: Route, settings_ctx: int) -> dict[str, Any]:
    ctx = route.context_length or (settings_ctx if route.provider == "local" else 0)
    ctx = ctx or _DEFAULT_CONTEXT[route.provider]
    provider = {"id": route.provider, "name": _PROVIDER_NAMES[route.provider]}
    target = route.upstream_model or (BUNDLED_MODEL_NAME if route.provider == "local" else model)
    return {
        "id": model,
        "object": "model",
        "created": 0,
        "owned_by": route.provider,
        "name": model,
        "description": f"Routed by earmark to {route.provider} ({target}) via '{route.describe()}'",
        "default_parameters": {"temperature": None, "top_p": None, "frequency_penalty": None},
        "supported_parameters": [
            "max_tokens",
            "temperature",
            "top_p",
            "stop",
            "response_format",
            "stream",
        ],
        "top_provider": {
            "is_moderated": False,
            "context_length": ctx,
            "max_completion_tokens": min(ctx, 8192),
        },
        "context_length": ctx,
        "pricing": {"global": {"prompt": 0.0, "completions": 0.0}},
        "creator": route.provider,
        "retirement_date": 0,
        "available_regions": ["local"],
        "providers": [provider],
        "default_provider": provider,
    }


def model_list(router: Router) -> dict[str, Any]:
    """``GET /v1/models``: every literal route, the bundled model, and the known gateway ids
    that some usable route serves."""
    names: list[str] = [r.pattern for r in router.all_routes if not _is_glob(r.pattern)]
    names += [BUNDLED_MODEL_NAME, *KNOWN_MODELS]
    data, seen = [], set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        route = next(
            (r for r in router.all_routes if r.matches(name) and r.missing_key() is None), None
        )
        if route is not None:
            data.append(_model_entry(name, route, router.settings.local_n_ctx))
    return {"object": "list", "data": data}

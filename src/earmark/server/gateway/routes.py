"""The LLM gateway routes: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Same API keys as the transcript API (``authorization: <key>`` or ``Bearer <key>``).
Errors use the two flat envelopes both AssemblyAI SDKs parse: ``{"error", "status",
"request_id"}`` for a 401 before the request is looked at, and ``{"message", "code",
"request_id", "metadata": {"errors": [...]}}`` for everything after.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from earmark.errors import AuthError, EarmarkError, InputError
from earmark.llm import ChatDelta, Router
from earmark.llm.types import Usage
from earmark.server.auth import authenticate
from earmark.server.deps import get_services
from earmark.server.gateway.schemas import ChatCompletionIn
from earmark.server.gateway.service import (
    GatewayCall,
    build_request,
    chunk_body,
    completion_body,
    model_list,
    new_request_id,
)

__all__ = ["create_router", "gateway_error", "llm_router", "render_error"]

log = logging.getLogger("earmark.gateway")


def llm_router(request: Request) -> Router:
    """The app's LLM router: the services' runtime's (built from the app's settings), or
    ``app.state.llm_router`` when a caller set one."""
    router = getattr(request.app.state, "llm_router", None)
    if isinstance(router, Router):
        return router
    return get_services(request).runtime.llm_router()


def gateway_error(
    exc: EarmarkError, request_id: str, errors: list[str] | None = None
) -> JSONResponse:
    """An earmark error in the gateway's flat envelopes."""
    if isinstance(exc, AuthError):
        body: dict[str, Any] = {"error": exc.message, "status": "error", "request_id": request_id}
    else:
        body = {
            "message": exc.message,
            "code": exc.status_code,
            "request_id": request_id,
            "metadata": {"errors": errors or [exc.message]},
        }
    return JSONResponse(body, status_code=exc.status_code, headers={"x-request-id": request_id})


def render_error(request: Request, exc: EarmarkError) -> JSONResponse:
    """Errors raised on ``/v1/`` paths outside the handlers, in the gateway's envelopes."""
    return gateway_error(exc, new_request_id())


def _validation_errors(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        if err["type"] == "missing":
            out.append(f"'{where}' is required")
        else:
            out.append(f"'{where}': {err['msg']}")
    return out


async def _parse(request: Request, request_id: str) -> ChatCompletionIn | JSONResponse:
    raw = await request.body()
    try:
        data = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return gateway_error(InputError(f"invalid request body: not JSON ({exc})"), request_id)
    if not isinstance(data, dict):
        return gateway_error(InputError("invalid request body: expected a JSON object"), request_id)
    try:
        return ChatCompletionIn.model_validate(data)
    except ValidationError as exc:
        errors = _validation_errors(exc)
        return gateway_error(InputError("invalid request body"), request_id, errors)


async def chat_completions(request: Request) -> Any:
    """OpenAI-style chat completion, with AssemblyAI's ``transcript_id`` injection."""
    request_id = new_request_id()
    started = time.monotonic_ns()
    try:
        caller = authenticate(request)
    except AuthError as exc:
        return gateway_error(exc, request_id)
    body = await _parse(request, request_id)
    if isinstance(body, JSONResponse):
        return body
    services = get_services(request)

    def load_transcript(transcript_id: str) -> str:
        record = services.load_transcript(transcript_id, caller.owner)
        if record.status != "completed":
            raise InputError(
                f"Transcript {transcript_id!r} is not completed (status: {record.status}); "
                f"poll GET /v2/transcript/{transcript_id} until its status is 'completed'"
            )
        return record.text or ""

    try:
        hit = llm_router(request).resolve(body.model)
        call = await run_in_threadpool(build_request, body, hit.upstream_model, load_transcript)
        provider = hit.provider
        if call.stream:
            stream = provider.stream(call.request)
            first = await run_in_threadpool(_first, stream)
            events = _sse(call, request_id, first, stream)
            return StreamingResponse(
                events,
                media_type="text/event-stream",
                headers={"x-request-id": request_id, "cache-control": "no-cache"},
            )
        response = await run_in_threadpool(provider.chat, call.request)
    except EarmarkError as exc:
        return gateway_error(exc, request_id)
    log.info(
        "chat %s -> %s: %d+%d tokens, %.2f s",
        body.model,
        hit.route.provider,
        response.usage.prompt_tokens,
        response.usage.completion_tokens,
        (time.monotonic_ns() - started) / 1e9,
    )
    return JSONResponse(
        completion_body(call, response, request_id, started),
        headers={"x-request-id": request_id},
    )


def _first(stream: Iterator[ChatDelta]) -> ChatDelta | None:
    """Run the stream to its first delta, so routing and context errors become statuses."""
    return next(stream, None)


def _event(payload: dict[str, Any]) -> str:
    return "data: " + json.dumps(payload, ensure_ascii=False) + "\n\n"


def _sse(
    call: GatewayCall, request_id: str, first: ChatDelta | None, stream: Iterator[ChatDelta]
) -> Iterator[str]:
    yield _event(chunk_body(call, request_id, content="", role=True))
    finish, usage = "stop", Usage()
    try:
        pending = [first] if first is not None else []
        for delta in _chain(pending, stream):
            if delta.content:
                yield _event(chunk_body(call, request_id, content=delta.content))
            if delta.finish_reason is not None:
                finish = delta.finish_reason
            if delta.usage is not None:
                usage = delta.usage
        yield _event(chunk_body(call, request_id, finish_reason=finish, usage=usage))
    except EarmarkError as exc:
        log.warning("stream %s failed: %s", request_id, exc)
        err = {"message": exc.message, "code": exc.status_code, "request_id": request_id}
        yield _event({"error": err})
    finally:
        close = getattr(stream, "close", None)
        if callable(close):
            close()
    yield "data: [DONE]\n\n"


def _chain(first: list[ChatDelta], rest: Iterator[ChatDelta]) -> Iterator[ChatDelta]:
    yield from first
    yield from rest


async def list_models(request: Request) -> JSONResponse:
    """The models that some route serves, in the full shape the Python SDK requires."""
    request_id = new_request_id()
    try:
        body = model_list(llm_router(request))
    except EarmarkError as exc:
        return gateway_error(exc, request_id)
    return JSONResponse(body, headers={"x-request-id": request_id})


def create_router() -> APIRouter:
    """The gateway's routes, to be included by :func:`earmark.server.app.create_app`."""
    router = APIRouter(tags=["llm-gateway"])
    router.add_api_route("/v1/chat/completions", chat_completions, methods=["POST"])
    router.add_api_route("/v1/models", list_models, methods=["GET"])
    return router

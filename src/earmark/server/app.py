"""The FastAPI application factory.

``create_app(services)`` builds the app around a :class:`Services` container (nothing is
built at import time). The lifespan starts the workers (recovering unfinished jobs) and
stops them. One exception handler renders every :class:`earmark.errors.EarmarkError` with
its HTTP status and AssemblyAI's ``{"error": "<message>"}`` body.

Routers mounted here, in one place (:func:`_mount_routers`):

- ``earmark.server.routes_v2.build_router()``: the ``/v2`` transcript API;
- ``earmark.server.gateway.routes.create_router()`` (or ``build_router()``): the ``/v1``
  LLM gateway, when that module exists. If it also defines ``render_error(request, exc) -> Response``, errors on
  ``/v1/`` paths are rendered by it (the gateway's own error envelopes).
"""

from __future__ import annotations

import importlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from earmark import __version__
from earmark.errors import EarmarkError
from earmark.server.body_limit import BodyLimit
from earmark.server.cache import RenderCache
from earmark.server.services import Services

__all__ = ["GATEWAY_MODULE", "create_app"]

log = logging.getLogger("earmark.server")

GATEWAY_MODULE = "earmark.server.gateway.routes"
ErrorRenderer = Callable[[Request, EarmarkError], Response]


def create_app(services: Services, *, manage_services: bool = True) -> FastAPI:
    """Build the app. With ``manage_services`` (the default) the lifespan starts and stops
    ``services``; pass ``False`` when the caller owns their life cycle."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_services:
            services.start()
        try:
            yield
        finally:
            if manage_services:
                services.stop()

    app = FastAPI(
        title="earmark",
        version=__version__,
        description="Self-hosted, AssemblyAI-compatible transcription with custom topic tags.",
        lifespan=lifespan,
    )
    app.add_middleware(
        BodyLimit,
        max_bytes=services.settings.server.max_request_kb * 1000,
        exempt=("/v2/upload",),
    )
    app.state.services = services
    app.state.error_renderers = {}
    app.state.render_cache = RenderCache()
    _install_error_handlers(app)
    _mount_routers(app)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "queued": services.queue.pending()}

    return app


def _mount_routers(app: FastAPI) -> None:
    from earmark.server.routes_v2 import build_router
    from earmark.server.web import mount_web

    app.include_router(build_router())
    mount_web(app)  # the web app at / (earmark.server.web)
    try:
        gateway = importlib.import_module(GATEWAY_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name is not None and GATEWAY_MODULE.startswith(exc.name):
            return  # the gateway is not installed in this build
        raise
    factory = getattr(gateway, "build_router", None) or gateway.create_router
    app.include_router(factory())
    renderer = getattr(gateway, "render_error", None)
    if renderer is not None:
        app.state.error_renderers["/v1/"] = renderer


def _render(request: Request, exc: EarmarkError) -> Response:
    renderers: dict[str, ErrorRenderer] = request.app.state.error_renderers
    for prefix, renderer in renderers.items():
        if request.url.path.startswith(prefix):
            return renderer(request, exc)
    body: dict[str, Any] = {"error": exc.message}
    if request.url.path.startswith("/v1/"):
        body.update(status="error", request_id=f"req_{secrets.token_hex(12)}")
    return JSONResponse(body, status_code=exc.status_code)


def _install_error_handlers(app: FastAPI) -> None:
    async def earmark_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EarmarkError)
        if exc.status_code >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc.message)
        return _render(request, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        message = f"Invalid request: {where or 'request'}: {first.get('msg', 'invalid value')}"
        err = EarmarkError(message)
        err.status_code = 400
        return _render(request, err)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = "Not found" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(
            {"error": message}, status_code=exc.status_code, headers=dict(exc.headers or {})
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"error": f"Internal server error ({type(exc).__name__})"}, status_code=500
        )

    app.add_exception_handler(EarmarkError, earmark_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)

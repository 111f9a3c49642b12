"""LLM providers and routing: ``openai``, ``anthropic`` and ``local`` behind one interface.

Usage::

    from earmark.llm import Router, ChatRequest, Message

    router = Router.from_settings()            # EARMARK_LLM_ROUTES / _FILE, default *=local
    hit = router.resolve("claude-sonnet-4-5-20250929")
    answer = hit.provider.chat(
        ChatRequest(model=hit.upstream_model, messages=(Message("user", "Hello"),))
    )

Nothing is loaded or connected at import time; the local model loads on first use.
"""

from __future__ import annotations

import threading

from earmark.config import LLMSettings
from earmark.llm.base import Provider, ProviderConfig
from earmark.llm.router import Resolved, Route, Router, parse_routes
from earmark.llm.types import (
    ChatDelta,
    ChatRequest,
    ChatResponse,
    Message,
    ResponseFormat,
    TokenLogprob,
    Usage,
)

__all__ = [
    "ChatDelta",
    "ChatRequest",
    "ChatResponse",
    "Message",
    "Provider",
    "ProviderConfig",
    "Resolved",
    "ResponseFormat",
    "Route",
    "Router",
    "TokenLogprob",
    "Usage",
    "default_router",
    "parse_routes",
]

_routers: dict[str, Router] = {}
_routers_lock = threading.Lock()


def default_router(settings: LLMSettings | None = None) -> Router:
    """A process-wide router for ``settings`` (read from the environment when omitted)."""
    settings = settings or LLMSettings()
    key = settings.model_dump_json()
    with _routers_lock:
        router = _routers.get(key)
        if router is None:
            router = Router.from_settings(settings)
            _routers[key] = router
        return router

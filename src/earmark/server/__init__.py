"""earmark's HTTP server: the AssemblyAI-compatible transcript API (and the LLM gateway).

Build it with ``create_app(build_services(settings))``; ``earmark serve`` does exactly that
and runs it with uvicorn. Nothing is built at import time.
"""

from __future__ import annotations

__all__ = ["build_services", "create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from earmark.server.app import create_app

        return create_app
    if name == "build_services":
        from earmark.server.services import build_services

        return build_services
    raise AttributeError(f"module 'earmark.server' has no attribute {name!r}")

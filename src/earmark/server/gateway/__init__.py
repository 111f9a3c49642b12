"""The LLM gateway: AssemblyAI's ``/v1/chat/completions`` and ``/v1/models`` on ``earmark serve``.

``create_router()`` returns the routes; the app includes them. Requests are routed to a
provider by :class:`earmark.llm.Router` (``EARMARK_LLM_ROUTES``; default: the bundled local
model for every model name).
"""

from __future__ import annotations

from earmark.server.gateway.routes import create_router

__all__ = ["create_router"]

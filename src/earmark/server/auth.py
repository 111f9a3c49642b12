"""API-key authentication, shared by the transcript API and the LLM gateway.

A request presents its key as ``authorization: <key>`` (AssemblyAI's SDKs) or
``Authorization: Bearer <key>`` (OpenAI-style clients). The caller is identified by an
owner id: each key sees only what it created. With no key configured at all the server is
open (every request is the anonymous owner ``""``); ``earmark serve`` allows that only on a
loopback address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from earmark.errors import AuthError
from earmark.server.deps import get_services

__all__ = ["AUTH_ERROR", "ApiCaller", "Caller", "authenticate", "require_caller"]

AUTH_ERROR = "Authentication error, API token missing/invalid"
ANONYMOUS = ""


@dataclass(frozen=True)
class Caller:
    """Who is calling: ``owner`` scopes every transcript read and write."""

    owner: str
    open_access: bool = False


def authenticate(request: Request) -> Caller:
    """Check the request's key. Raises :class:`AuthError` (401) when it is missing or bad."""
    keys = get_services(request).keys
    if not keys.configured():
        return Caller(owner=ANONYMOUS, open_access=True)
    header = request.headers.get("authorization", "").strip()
    if header[:7].lower() == "bearer ":
        header = header[7:].strip()
    owner = keys.owner_of(header) if header else None
    if owner is None:
        raise AuthError(AUTH_ERROR)
    return Caller(owner=owner)


async def require_caller(request: Request) -> Caller:
    """FastAPI dependency form of :func:`authenticate` (async: runs inline, no thread hop)."""
    return authenticate(request)


ApiCaller = Annotated[Caller, Depends(require_caller)]
"""Use as a route parameter type: ``async def route(caller: ApiCaller)``."""

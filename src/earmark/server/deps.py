"""Request-scoped access to the services container and to absolute URLs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from earmark.server.services import Services

__all__ = ["AppServices", "base_url", "get_services"]


def get_services(request: Request) -> Services:
    """The :class:`Services` the app was built with (``app.state.services``)."""
    services: Services = request.app.state.services
    return services


async def _services_dependency(request: Request) -> Services:
    return get_services(request)


AppServices = Annotated[Services, Depends(_services_dependency)]
"""Route parameter type for the services (an async dependency: no thread-pool hop)."""


def base_url(request: Request) -> str:
    """The URL clients reach this server at, without a trailing slash:
    ``EARMARK_PUBLIC_URL`` when set, else the scheme and host of the request."""
    public = get_services(request).settings.server.public_url
    if public:
        return public.rstrip("/")
    return str(request.base_url).rstrip("/")

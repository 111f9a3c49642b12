"""Jinja2 templates of the web app (autoescaped, from the installed package) and the
response helpers every page goes through (security headers, the session cookie)."""

from __future__ import annotations

import functools
import json
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from earmark import __version__
from earmark.server.web.session import PageUser, secure_headers, set_session_cookie
from earmark.server.web.view import fmt_time

__all__ = ["error_page", "page", "redirect"]


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("earmark.server.web", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(fmt_time=fmt_time, version=__version__)
    env.filters["pct"] = lambda v: f"{100 * float(v):.0f}%"
    env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False)
    env.filters["day"] = lambda v: (v or "")[:16].replace("T", " ")
    return env


def page(
    request: Request,
    user: PageUser | None,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render ``template`` for ``user`` (sets the session cookie when it is new)."""
    body = (
        environment()
        .get_template(template)
        .render(user=user, csrf=user.csrf if user else "", path=request.url.path, **context)
    )
    response = HTMLResponse(body, status_code=status_code)
    if user is not None and user.new_token:
        set_session_cookie(request, response, user.new_token)
    return secure_headers(response)


def error_page(request: Request, user: PageUser | None, status: int, message: str) -> Response:
    return page(request, user, "error.html", status_code=status, status=status, message=message)


def redirect(url: str, user: PageUser | None = None, request: Request | None = None) -> Response:
    """303 to ``url`` (a path on this server)."""
    response = RedirectResponse(url if url.startswith("/") else "/", status_code=303)
    if user is not None and user.new_token and request is not None:
        set_session_cookie(request, response, user.new_token)
    return secure_headers(response)

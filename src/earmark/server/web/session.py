"""Who is using the web app: sign-in sessions, CSRF tokens and the security headers.

A browser signs in with an API key and gets an opaque session cookie (``earmark_session``:
HttpOnly, SameSite=Strict, Secure over https); the server keeps only a hash of it
(:class:`earmark.storage.library.Library`), with the key's owner id and a CSRF token bound
to the session. Every form carries that token (``csrf``) and every script request sends it
as ``X-CSRF-Token``. With no API key configured (an open loopback server) a session is
created on the first visit, for the CSRF token only; everyone is the anonymous owner then.
A session ends at sign-out, after 14 days, or when its key is revoked.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

from earmark.errors import AuthError, EarmarkError, InputError
from earmark.server.auth import Caller, authenticate
from earmark.server.deps import get_services
from earmark.storage.keys import KeyRing
from earmark.storage.library import SESSION_DAYS, Library, library_of

__all__ = [
    "COOKIE",
    "CSP",
    "CsrfError",
    "PageUser",
    "SignInRequired",
    "caller_or_session",
    "check_csrf",
    "library",
    "page_user",
    "read_form",
    "secure_headers",
    "set_session_cookie",
]

COOKIE = "earmark_session"
PRE_COOKIE = "earmark_signin"
CSRF_HEADER = "x-csrf-token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


class SignInRequired(Exception):
    """A page was asked for without a live session: the handler redirects to /signin."""


class CsrfError(EarmarkError):
    """A form or script request without the session's CSRF token."""

    status_code = 403


@dataclass(frozen=True)
class PageUser:
    """The signed-in (or open-access) user of one request."""

    owner: str
    csrf: str
    open_access: bool
    new_token: str | None = None
    """Set when this request created the session: the response must set the cookie."""


def library(request: Request) -> Library:
    return library_of(get_services(request).store)


def is_secure(request: Request) -> bool:
    public = get_services(request).settings.server.public_url or ""
    return request.url.scheme == "https" or public.startswith("https://")


def _owner_live(keys: KeyRing, owner: str) -> bool:
    """Whether the key behind ``owner`` is still accepted (env keys, or not revoked)."""
    if owner.startswith("env-"):
        return owner in keys._env.values()
    return any(k.id == owner and k.revoked is None for k in keys.keys_file.load())


def current_user(request: Request) -> PageUser | None:
    """The session's user, or ``None`` (never creates a session)."""
    services = get_services(request)
    token = request.cookies.get(COOKIE, "")
    session = library(request).session(token) if token else None
    if session is None:
        return None
    open_access = not services.keys.configured()
    if open_access:
        return PageUser(owner="", csrf=session.csrf, open_access=True)
    if not session.owner or not _owner_live(services.keys, session.owner):
        return None
    return PageUser(owner=session.owner, csrf=session.csrf, open_access=False)


def page_user(request: Request) -> PageUser:
    """The user of a page; on an open server a session is made on the first visit.
    Raises :class:`SignInRequired` when a key is needed and no session is live."""
    user = current_user(request)
    if user is not None:
        return user
    if get_services(request).keys.configured():
        raise SignInRequired()
    token, session = library(request).new_session("")
    return PageUser(owner="", csrf=session.csrf, open_access=True, new_token=token)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
        path="/",
    )


def secure_headers(response: Response) -> Response:
    """The headers every web response carries."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def check_csrf(user: PageUser, token: str | None) -> None:
    if not token or not hmac.compare_digest(token.encode(), user.csrf.encode()):
        raise CsrfError("The form has expired or did not come from this page; reload and retry")


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (last value of each field wins)."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("The form is not UTF-8") from exc
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=200))


async def form_of(request: Request, user: PageUser) -> dict[str, str]:
    """The form of a POST, once its CSRF token is checked."""
    form = await read_form(request)
    check_csrf(user, form.get("csrf"))
    return form


async def caller_or_session(request: Request) -> Caller:
    """The API's caller dependency, also accepting the web session (for the page's own
    calls to ``/v2/upload`` and ``/v2/transcript``): a request with an ``authorization``
    header, or without a session cookie, is authenticated as before; a cookie-authenticated
    request other than GET/HEAD must send the session's CSRF token as ``X-CSRF-Token``."""
    if request.headers.get("authorization") or COOKIE not in request.cookies:
        return authenticate(request)
    user = current_user(request)
    if user is None:
        if get_services(request).keys.configured():
            raise AuthError("Authentication error, the web session has ended; sign in again")
        return authenticate(request)
    if request.method not in ("GET", "HEAD"):
        check_csrf(user, request.headers.get(CSRF_HEADER))
    return Caller(owner=user.owner, open_access=user.open_access)


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


def signin_token_ok(request: Request, form: dict[str, Any]) -> bool:
    """The sign-in form's CSRF check (before a session exists): double submit of a
    SameSite=Strict cookie."""
    cookie = request.cookies.get(PRE_COOKIE, "")
    sent = str(form.get("csrf", ""))
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())

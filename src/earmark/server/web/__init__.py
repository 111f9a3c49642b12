"""The web app of ``earmark serve``: sign in with an API key, upload recordings, follow
their jobs, read and play transcripts, correct tags, keep tag lists, search.

Server-rendered pages (Jinja2, autoescaped) with a little plain JavaScript from
``static/``; nothing is loaded from another host, and every page sends a
Content-Security-Policy without inline script. :func:`mount_web` adds the routes to the
app (``earmark.server.app._mount_routers`` calls it) and lets the page's own calls to
``/v2/upload`` and ``/v2/transcript`` authenticate with the session cookie (plus the CSRF
header), through an override of the API's caller dependency.

Routes: ``/`` (list, search), ``/signin``, ``/signout``, ``/new``, ``/transcripts/{id}``
(+ ``/words.json``, ``/export.{txt,json,srt,vtt}``, form actions), ``/media/{id}`` (Range),
``/tag-lists`` (+ ``/{name}``), ``/web/api/transcripts/{id}`` (status), ``/static/...``,
and ``/earmark/v1/tag-lists[/{name}]`` (JSON, API key).
"""

from __future__ import annotations

import mimetypes
from importlib import resources

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from earmark.server.auth import require_caller
from earmark.server.web import actions, pages, taglists
from earmark.server.web.media import serve_media
from earmark.server.web.session import (
    CsrfError,
    SignInRequired,
    caller_or_session,
    current_user,
    secure_headers,
)
from earmark.server.web.templating import error_page, redirect

__all__ = ["build_router", "mount_web"]

_STATIC = {"app.css", "app.js", "player.js"}


async def static_file(name: str) -> Response:
    if name not in _STATIC:
        return secure_headers(Response("Not found", status_code=404))
    data = resources.files("earmark.server.web").joinpath("static", name).read_bytes()
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if name.endswith(".js"):
        ctype = "text/javascript"
    response = Response(data, media_type=ctype)
    response.headers["Cache-Control"] = "public, max-age=300"
    return secure_headers(response)


def build_router() -> APIRouter:
    r = APIRouter(include_in_schema=False)
    get, post = ["GET"], ["POST"]
    r.add_api_route("/", pages.list_page, methods=get)
    r.add_api_route("/signin", pages.signin_form, methods=get)
    r.add_api_route("/signin", pages.signin, methods=post)
    r.add_api_route("/signout", pages.signout, methods=post)
    r.add_api_route("/new", pages.new_page, methods=get)
    r.add_api_route("/transcripts/{transcript_id}", pages.transcript_page, methods=get)
    r.add_api_route("/transcripts/{transcript_id}/words.json", pages.words_json, methods=get)
    r.add_api_route("/transcripts/{transcript_id}/export.{fmt}", pages.export, methods=get)
    r.add_api_route("/transcripts/{transcript_id}/speakers", actions.rename_speaker, methods=post)
    r.add_api_route("/transcripts/{transcript_id}/title", actions.set_title, methods=post)
    r.add_api_route(
        "/transcripts/{transcript_id}/corrections", actions.add_correction, methods=post
    )
    r.add_api_route("/transcripts/{transcript_id}/retag", actions.retag, methods=post)
    r.add_api_route("/media/{transcript_id}", serve_media, methods=get)
    r.add_api_route("/web/api/transcripts/{transcript_id}", pages.job_status, methods=get)
    r.add_api_route("/web/api/transcripts/{transcript_id}/title", pages.set_title_api, methods=post)
    r.add_api_route("/tag-lists", taglists.lists_page, methods=get)
    r.add_api_route("/tag-lists", taglists.create_list, methods=post)
    r.add_api_route("/tag-lists/copy", taglists.copy_preset, methods=post)
    r.add_api_route("/tag-lists/{name}", taglists.edit_page, methods=get)
    r.add_api_route("/tag-lists/{name}", taglists.save_list, methods=post)
    r.add_api_route("/tag-lists/{name}/delete", taglists.delete_list, methods=post)
    r.add_api_route("/tag-lists/{name}/teach", taglists.teach_list, methods=post)
    r.add_api_route("/tag-lists/{name}/export", taglists.export_list, methods=get)
    r.add_api_route("/earmark/v1/tag-lists", taglists.api_lists, methods=get)
    r.add_api_route("/earmark/v1/tag-lists/{name}", taglists.api_get_list, methods=get)
    r.add_api_route("/static/{name}", static_file, methods=get)
    return r


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/v2/", "/v1/", "/earmark/v1/", "/web/api/"))


def mount_web(app: FastAPI) -> None:
    """Add the web app to ``app``."""
    app.include_router(build_router())
    app.dependency_overrides[require_caller] = caller_or_session

    async def sign_in(request: Request, exc: Exception) -> Response:
        if not _wants_html(request) or request.method != "GET":
            return secure_headers(Response('{"error": "Sign in first"}', 401))
        return redirect("/signin")

    async def csrf(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CsrfError)
        if not _wants_html(request):
            from fastapi.responses import JSONResponse

            return secure_headers(JSONResponse({"error": exc.message}, status_code=403))
        return error_page(request, current_user(request), 403, exc.message)

    app.add_exception_handler(SignInRequired, sign_in)
    app.add_exception_handler(CsrfError, csrf)

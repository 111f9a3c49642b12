"""The web app's pages: sign-in, the list (with search), a new transcript, and a
transcript's page with its exports.

Every page is server-rendered; the scripts in ``static/`` add the upload, the live job
status and the player. A key sees only its own transcripts: another key's id is a 404,
on pages and media alike.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from earmark.server.deps import get_services
from earmark.server.web.session import (
    COOKIE,
    PRE_COOKIE,
    PageUser,
    current_user,
    library,
    new_signin_token,
    page_user,
    read_form,
    secure_headers,
    set_session_cookie,
    signin_token_ok,
)
from earmark.server.web.templating import error_page, page, redirect
from earmark.server.web.view import build_view, paragraphs, words_payload
from earmark.storage.base import JobRecord
from earmark.storage.search import SearchHit

__all__ = ["ENGINES", "STATUSES", "load_job"]

STATUSES = ("queued", "processing", "completed", "error")
ENGINES = ("embedding", "accurate", "static", "llm")
PAGE_SIZE = 50


def load_job(request: Request, user: PageUser, transcript_id: str) -> JobRecord | None:
    """``user``'s live transcript, or ``None`` (unknown, another key's, deleted)."""
    if len(transcript_id) > 64:
        return None
    job = get_services(request).store.get(transcript_id, user.owner)
    return None if job is None or job.deleted else job


# -- sign-in --------------------------------------------------------------------------


async def signin_form(request: Request) -> Response:
    if not get_services(request).keys.configured() or current_user(request) is not None:
        return redirect("/")
    token = new_signin_token()
    response = page(request, None, "signin.html", signin_csrf=token, error=None)
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", path="/signin")
    return response


async def signin(request: Request) -> Response:
    services = get_services(request)
    form = await read_form(request)
    if not signin_token_ok(request, form):
        return await _signin_again(request, "The sign-in form expired; please try again.", 403)
    owner = services.keys.owner_of(form.get("api_key", "").strip())
    if owner is None:
        return await _signin_again(request, "That API key is not valid on this server.", 401)
    old = request.cookies.get(COOKIE)
    lib = library(request)
    if old:
        lib.end_session(old)
    token, _ = lib.new_session(owner)
    response = redirect("/")
    set_session_cookie(request, response, token)
    response.delete_cookie(PRE_COOKIE, path="/signin")
    return response


async def _signin_again(request: Request, message: str, status: int) -> Response:
    token = new_signin_token()
    response = page(
        request, None, "signin.html", status_code=status, signin_csrf=token, error=message
    )
    response.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", path="/signin")
    return response


async def signout(request: Request) -> Response:
    user = page_user(request)
    form = await read_form(request)
    from earmark.server.web.session import check_csrf

    check_csrf(user, form.get("csrf"))
    token = request.cookies.get(COOKIE)
    if token:
        library(request).end_session(token)
    response = redirect("/signin" if not user.open_access else "/")
    response.delete_cookie(COOKIE, path="/")
    return response


# -- the list and search ----------------------------------------------------------------


def _group_hits(hits: list[SearchHit]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for hit in hits:
        g = groups.setdefault(
            hit.transcript_id,
            {"id": hit.transcript_id, "title": hit.title, "created": hit.created, "hits": []},
        )
        if len(g["hits"]) < 3:
            g["hits"].append(hit)
    return list(groups.values())


async def list_page(request: Request) -> Response:
    user = page_user(request)
    q = request.query_params
    lib = library(request)
    status = q.get("status") if q.get("status") in STATUSES else None
    tag = (q.get("tag") or "").strip()[:200] or None
    query = (q.get("q") or "").strip()[:300]
    pageno = int(q["page"]) if q.get("page", "").isdigit() else 0
    results = None
    if query:
        hits = await run_in_threadpool(lib.search, user.owner, query, 200)
        results = _group_hits(hits)
    rows = await run_in_threadpool(
        lambda: lib.listing(
            user.owner, status=status, tag=tag, limit=PAGE_SIZE + 1, offset=pageno * PAGE_SIZE
        )
    )
    weeks = await run_in_threadpool(lib.accuracy_by_week, user.owner)
    return page(
        request,
        user,
        "list.html",
        rows=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE,
        pageno=pageno,
        status=status,
        tag=tag,
        query=query,
        results=results,
        statuses=STATUSES,
        weeks=weeks[-12:],
    )


# -- a new transcript ----------------------------------------------------------------------


async def new_page(request: Request) -> Response:
    from earmark.tagging import presets

    user = page_user(request)
    saved = library(request).lists(user.owner)
    return page(
        request,
        user,
        "new.html",
        presets=presets(),
        saved=[s.name for s in saved],
        engines=ENGINES,
    )


async def job_status(transcript_id: str, request: Request) -> Response:
    """``GET /web/api/transcripts/{id}``: the status the page polls."""
    user = page_user(request)
    job = load_job(request, user, transcript_id)
    if job is None:
        return secure_headers(JSONResponse({"error": "Not found"}, status_code=404))
    body = {"id": job.id, "status": job.status, "error": job.error, "url": f"/transcripts/{job.id}"}
    return secure_headers(JSONResponse(body))


async def set_title_api(transcript_id: str, request: Request) -> Response:
    """``POST /web/api/transcripts/{id}/title`` (JSON ``{"title": ...}``, CSRF header)."""
    from earmark.server.web.session import check_csrf

    user = page_user(request)
    check_csrf(user, request.headers.get("x-csrf-token"))
    job = load_job(request, user, transcript_id)
    if job is None:
        return secure_headers(JSONResponse({"error": "Not found"}, status_code=404))
    try:
        title = json.loads(await request.body()).get("title", "")
    except (ValueError, AttributeError):
        title = ""
    library(request).set_meta(user.owner, job.id, "title", str(title)[:200])
    return secure_headers(JSONResponse({"ok": True}))


# -- a transcript's page ---------------------------------------------------------------


async def transcript_page(transcript_id: str, request: Request) -> Response:
    from earmark.server.web.media import media_file, media_kind
    from earmark.tagging import presets

    user = page_user(request)
    job = load_job(request, user, transcript_id)
    if job is None:
        return error_page(request, user, 404, "No such transcript (or it is not yours).")
    lib = library(request)
    title = lib.meta(user.owner, job.id).get("title", "")
    if job.status != "completed" or job.result is None:
        return page(request, user, "pending.html", job=job, title=title)
    services = get_services(request)
    view = await run_in_threadpool(build_view, job, lib)
    path = await run_in_threadpool(media_file, services.store, job)
    kind = await run_in_threadpool(media_kind, path) if path is not None else None
    t = request.query_params.get("t", "")
    return page(
        request,
        user,
        "transcript.html",
        job=job,
        view=view,
        media=kind,
        start_at=t if _is_number(t) else "",
        corrections=lib.corrections(user.owner, job.id),
        saved=[s.name for s in lib.lists(user.owner)],
        presets=presets(),
        engines=ENGINES,
    )


def _is_number(text: str) -> bool:
    try:
        return 0 <= float(text) < 1e7
    except ValueError:
        return False


async def words_json(transcript_id: str, request: Request) -> Response:
    user = page_user(request)
    job = load_job(request, user, transcript_id)
    if job is None or job.result is None:
        return secure_headers(JSONResponse({"error": "Not found"}, status_code=404))
    result = job.result
    body = await run_in_threadpool(lambda: words_payload(paragraphs(result.transcript)))
    response = JSONResponse(body)
    response.headers["Cache-Control"] = "private, max-age=300"
    return secure_headers(response)


async def export(transcript_id: str, fmt: str, request: Request) -> Response:
    """``GET /transcripts/{id}/export.{txt|json|srt|vtt}``: downloads."""
    from earmark.export import to_srt, to_text, to_vtt
    from earmark.server.render import render_transcript

    user = page_user(request)
    job = load_job(request, user, transcript_id)
    if job is None or job.result is None or fmt not in ("txt", "json", "srt", "vtt"):
        return error_page(request, user, 404, "Nothing to export here.")
    t = job.result.transcript
    if fmt == "json":
        text = json.dumps(render_transcript(job), ensure_ascii=False, indent=1)
        media = "application/json"
    else:
        text = {"txt": to_text, "srt": to_srt, "vtt": to_vtt}[fmt](t)
        media = "text/vtt" if fmt == "vtt" else "text/plain"
    response = PlainTextResponse(text, media_type=media)
    response.headers["Content-Disposition"] = f'attachment; filename="{job.id}.{fmt}"'
    return secure_headers(response)

"""What a transcript's page changes: speaker names, the title, tag corrections, re-tagging.

Every action is a form POST with the session's CSRF token, answered with a redirect back
to the page (so reloading never posts twice). Re-tagging runs the tagger of the server's
runtime (``services.runtime.taggers``) in the thread pool and stores the new tags beside
the job (:meth:`earmark.storage.library.Library.set_retag`); the page, the list and its
tag filter then use them.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from earmark.errors import EarmarkError, InputError
from earmark.jobs.options import TopicsRequest
from earmark.server.deps import get_services
from earmark.server.web.pages import ENGINES, load_job
from earmark.server.web.session import form_of, library, page_user
from earmark.server.web.templating import error_page, redirect
from earmark.server.web.view import build_view
from earmark.storage.base import utc_now
from earmark.storage.library import CorrectionRow, Retag
from earmark.types import TagList

__all__ = ["add_correction", "rename_speaker", "retag", "set_title"]

NONE_FITS = "__none__"


async def rename_speaker(transcript_id: str, request: Request) -> Response:
    user = page_user(request)
    form = await form_of(request, user)
    job = load_job(request, user, transcript_id)
    if job is None:
        return error_page(request, user, 404, "No such transcript (or it is not yours).")
    label = form.get("label", "")
    if not label.startswith(("speaker:", "channel:")) or len(label) > 40:
        return error_page(request, user, 400, "Unknown speaker.")
    library(request).set_meta(user.owner, job.id, label, form.get("name", "")[:80])
    return redirect(f"/transcripts/{job.id}#speakers")


async def set_title(transcript_id: str, request: Request) -> Response:
    user = page_user(request)
    form = await form_of(request, user)
    job = load_job(request, user, transcript_id)
    if job is None:
        return error_page(request, user, 404, "No such transcript (or it is not yours).")
    library(request).set_meta(user.owner, job.id, "title", form.get("title", "")[:200])
    return redirect(f"/transcripts/{job.id}")


def _span(scope: str) -> tuple[int, int] | None:
    start, sep, end = scope.partition("-")
    if sep and start.isdigit() and end.isdigit():
        return int(start), int(end)
    return None


async def add_correction(transcript_id: str, request: Request) -> Response:
    """Form fields: ``scope`` (``all`` or ``<start_ms>-<end_ms>`` of a window), ``wrong``
    (the tag marked wrong; empty to confirm the best tag), ``correct`` (a tag of the list
    or ``__none__``: none fits), or ``verdict=right`` to confirm the best tag."""
    user = page_user(request)
    form = await form_of(request, user)
    job = load_job(request, user, transcript_id)
    if job is None or job.result is None:
        return error_page(request, user, 404, "No such transcript (or it is not yours).")
    lib = library(request)
    view = build_view(job, lib)
    if view.tags is None or view.tags.result is None:
        return error_page(request, user, 400, "This transcript has no tags to correct.")
    tags = view.tags
    span = _span(form.get("scope", "all"))
    text = view.transcript.text
    predicted = tags.result.best_tag if tags.result else None
    if span is not None:
        window = next(
            (w for w in tags.windows if (w.start_ms, w.end_ms) == span),
            None,
        )
        if window is None:
            return error_page(request, user, 400, "That window is not part of this transcript.")
        text, predicted = window.text, window.top
    if form.get("verdict") == "right":
        correct, wrong = predicted, None
    else:
        raw = form.get("correct", "")
        if raw != NONE_FITS and raw not in tags.names:
            return error_page(request, user, 400, "Pick the right tag from the list, or none.")
        correct = None if raw == NONE_FITS else raw
        wrong = form.get("wrong") or predicted
        if wrong is not None and wrong not in tags.names:
            return error_page(request, user, 400, "The tag marked wrong is not in the list.")
    lib.add_correction(
        user.owner,
        CorrectionRow(
            id=0,
            transcript_id=job.id,
            start_ms=span[0] if span else None,
            end_ms=span[1] if span else None,
            text=text,
            predicted=predicted,
            wrong=wrong,
            correct=correct,
            list_name=tags.list_name,
            created=utc_now(),
        ),
    )
    return redirect(f"/transcripts/{job.id}#corrections")


def resolve_list(request: Request, owner: str, choice: str) -> TagList:
    """``preset:<name>`` or ``saved:<name>`` as a tag list (:class:`InputError` if neither)."""
    from earmark.tagging import load_tags, presets

    kind, _, name = choice.partition(":")
    if kind == "preset" and name in presets():
        return load_tags(name, read_files=False)
    if kind == "saved":
        saved = library(request).get_list(owner, name)
        if saved is not None:
            return saved.taglist()
    raise InputError("Choose one of the presets or of your saved tag lists")


async def retag(transcript_id: str, request: Request) -> Response:
    from earmark.jobs.topics import run_topics

    user = page_user(request)
    form = await form_of(request, user)
    job = load_job(request, user, transcript_id)
    if job is None or job.result is None:
        return error_page(request, user, 404, "No such transcript (or it is not yours).")
    engine = form.get("engine", "embedding")
    if engine not in ENGINES:
        return error_page(request, user, 400, f"Unknown tagging engine {engine!r}.")
    try:
        taglist = resolve_list(request, user.owner, form.get("list", ""))
    except EarmarkError as exc:
        return error_page(request, user, exc.status_code, exc.message)
    services = get_services(request)
    topics = TopicsRequest(tags=taglist, engine=engine, model=form.get("model") or None)
    outcome = await run_in_threadpool(
        run_topics, job.result.transcript, topics, services.runtime.taggers
    )
    if outcome.result is None:
        return error_page(request, user, 400, f"Tagging failed: {outcome.error}")
    library(request).set_retag(
        user.owner, job.id, Retag(list_name=taglist.name, outcome=outcome, created=utc_now())
    )
    return redirect(f"/transcripts/{job.id}#tags")

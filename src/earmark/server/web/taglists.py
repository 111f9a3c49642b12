"""Saved tag lists: create, edit, copy a preset, import/export YAML, teach from corrections,
and the small JSON endpoint the CLI reads (``GET /earmark/v1/tag-lists/{name}``).

A list is stored per key as the YAML the user wrote (checked with :func:`load_tags` on
every save). ``custom_tags: "<name>"`` on ``POST /v2/transcript`` uses it
(:func:`earmark.storage.library.saved_lists`). Teaching adds the text of each correction
not yet taught to this list as an example of its right tag
(:func:`earmark.tagging.teach.teach`, passages chosen with the embedding tagger when it
loads, else by shared words), then marks those corrections as taught to the list.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from earmark.errors import EarmarkError, NotFoundError
from earmark.server.deps import get_services
from earmark.server.web.session import caller_or_session, form_of, library, page_user
from earmark.server.web.templating import error_page, page, redirect
from earmark.storage.library import CorrectionRow, SavedList, valid_list_name

__all__ = [
    "api_get_list",
    "api_lists",
    "copy_preset",
    "create_list",
    "delete_list",
    "edit_page",
    "export_list",
    "lists_page",
    "save_list",
    "teach_list",
]


def _url(name: str) -> str:
    return f"/tag-lists/{quote(name, safe='')}"


def _teachable(saved: SavedList, pending: list[CorrectionRow]) -> list[CorrectionRow]:
    names = set(saved.taglist().names)
    return [c for c in pending if c.correct is None or c.correct in names]


async def lists_page(
    request: Request, error: str | None = None, name: str = "", body: str = ""
) -> Response:
    from earmark.tagging import presets

    user = page_user(request)
    lib = library(request)
    rows = []
    for saved in lib.lists(user.owner):
        try:
            count: int | str = len(saved.taglist().tags)
            pending = len(_teachable(saved, lib.untaught(user.owner, saved.name)))
        except EarmarkError:
            count, pending = "?", 0
        rows.append({"list": saved, "count": count, "pending": pending, "url": _url(saved.name)})
    return page(
        request,
        user,
        "taglists.html",
        status_code=400 if error else 200,
        rows=rows,
        presets=presets(),
        error=error,
        name=name,
        body=body,
    )


async def create_list(request: Request) -> Response:
    user = page_user(request)
    form = await form_of(request, user)
    name, body = form.get("name", ""), form.get("body", "")
    lib = library(request)
    try:
        if lib.get_list(user.owner, valid_list_name(name)) is not None:
            raise EarmarkError(f"You already have a list called {name.strip()!r}; edit it instead")
        saved = lib.save_list(user.owner, name, body)
    except EarmarkError as exc:
        return await lists_page(request, exc.message, name, body)
    return redirect(_url(saved.name))


async def copy_preset(request: Request) -> Response:
    from earmark.tagging import dump_tags, load_tags, presets

    user = page_user(request)
    form = await form_of(request, user)
    preset = form.get("preset", "")
    if preset not in presets():
        return await lists_page(request, "Choose one of the presets to copy")
    name = form.get("name", "").strip() or f"My {preset}"
    lib = library(request)
    try:
        if lib.get_list(user.owner, valid_list_name(name)) is not None:
            raise EarmarkError(f"You already have a list called {name!r}")
        saved = lib.save_list(user.owner, name, dump_tags(load_tags(preset, read_files=False)))
    except EarmarkError as exc:
        return await lists_page(request, exc.message, name)
    return redirect(_url(saved.name))


async def edit_page(
    name: str, request: Request, error: str | None = None, body: str | None = None
) -> Response:
    user = page_user(request)
    lib = library(request)
    saved = lib.get_list(user.owner, name)
    if saved is None:
        return error_page(request, user, 404, "No such tag list.")
    try:
        tags = saved.taglist().tags
        pending = _teachable(saved, lib.untaught(user.owner, saved.name))
    except EarmarkError:
        tags, pending = (), []
    return page(
        request,
        user,
        "taglist.html",
        status_code=400 if error else 200,
        saved=saved,
        tags=tags,
        body=saved.body if body is None else body,
        pending=pending,
        error=error,
        url=_url(saved.name),
    )


async def save_list(name: str, request: Request) -> Response:
    user = page_user(request)
    form = await form_of(request, user)
    lib = library(request)
    if lib.get_list(user.owner, name) is None:
        return error_page(request, user, 404, "No such tag list.")
    try:
        lib.save_list(user.owner, name, form.get("body", ""))
    except EarmarkError as exc:
        return await edit_page(name, request, exc.message, form.get("body", ""))
    return redirect(_url(name) + "?saved=1")


async def delete_list(name: str, request: Request) -> Response:
    user = page_user(request)
    await form_of(request, user)
    library(request).delete_list(user.owner, name)
    return redirect("/tag-lists")


async def export_list(name: str, request: Request) -> Response:
    user = page_user(request)
    saved = library(request).get_list(user.owner, name)
    if saved is None:
        return error_page(request, user, 404, "No such tag list.")
    response = PlainTextResponse(saved.body, media_type="application/yaml")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in saved.name)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.yaml"'
    return response


def _teach(request: Request, saved: SavedList, todo: list[CorrectionRow]) -> tuple[str, int]:
    from earmark.tagging import dump_tags
    from earmark.tagging.teach import Correction, tagger_relevance, teach_with_summary

    taglist = saved.taglist()
    corrections = [Correction(c.text, c.correct, c.wrong) for c in todo]
    relevance = None
    try:
        tagger = get_services(request).runtime.taggers.get("embedding")
        relevance = tagger_relevance(tagger, taglist)
    except EarmarkError:
        relevance = None  # no MiniLM here: passages by shared words
    taught, summary = teach_with_summary(taglist, corrections, relevance=relevance)
    return dump_tags(taught), sum(summary.added.values())


async def teach_list(name: str, request: Request) -> Response:
    user = page_user(request)
    await form_of(request, user)
    lib = library(request)
    saved = lib.get_list(user.owner, name)
    if saved is None:
        return error_page(request, user, 404, "No such tag list.")
    try:
        todo = _teachable(saved, lib.untaught(user.owner, saved.name))
        body, added = await run_in_threadpool(_teach, request, saved, todo)
        lib.save_list(user.owner, saved.name, body)
    except EarmarkError as exc:
        return await edit_page(name, request, exc.message)
    lib.mark_taught(user.owner, saved.name, [c.id for c in todo])
    return redirect(f"{_url(saved.name)}?taught={added}")


# -- JSON, for the CLI and scripts -----------------------------------------------------


async def api_lists(request: Request) -> Response:
    """``GET /earmark/v1/tag-lists``: the caller's saved lists (names and update times)."""
    caller = await caller_or_session(request)
    lists = library(request).lists(caller.owner)
    return JSONResponse({"tag_lists": [{"name": s.name, "updated": s.updated} for s in lists]})


async def api_get_list(name: str, request: Request) -> Response:
    """``GET /earmark/v1/tag-lists/{name}``: one saved list, as YAML text and as tags."""
    caller = await caller_or_session(request)
    saved = library(request).get_list(caller.owner, name)
    if saved is None:
        raise NotFoundError(f"Tag list {name!r} not found")
    tags = saved.taglist()
    return JSONResponse(
        {
            "name": saved.name,
            "updated": saved.updated,
            "yaml": saved.body,
            "tags": [
                {"name": t.name, "description": t.description, "examples": list(t.examples)}
                for t in tags.tags
            ],
        }
    )

"""AssemblyAI's v2 transcript API: upload, create, get, list, delete and the derived views.

Handlers are ``async`` and call the store directly: SQLite reads and single-row writes take
well under a millisecond, cheaper than a hop to the thread pool. Anything that may block
longer (DNS for webhook checks, tag-list loading) runs in the thread pool.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from earmark.errors import DownloadError, InputError, NotFoundError
from earmark.jobs.conversation_steps import REDACTED_PREFIX
from earmark.jobs.fetch import resolve_target
from earmark.jobs.options import options_to_json
from earmark.server.auth import ApiCaller, authenticate
from earmark.server.cache import RenderCache
from earmark.server.deps import AppServices, base_url, get_services
from earmark.server.derive import paragraphs, parse_terms, sentences, word_search
from earmark.server.job_request import accept
from earmark.server.render import render_list_item, render_transcript
from earmark.server.services import Services
from earmark.storage import TERMINAL, JobRecord, JobResult, ListQuery, UploadRecord, utc_now
from earmark.storage.files import FileStore, too_large
from earmark.storage.library import saved_lists
from earmark.storage.sweep import release_upload

__all__ = ["build_router"]

_UPLOAD_PATH = re.compile(r"/v2/upload/([0-9a-f]{32})$")  # also behind a path prefix
_STATUSES = ("queued", "processing", "completed", "error")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LOOKUP_ERROR = "Transcript lookup error, transcript id not found"


def build_router() -> APIRouter:
    """The ``/v2`` routes."""
    router = APIRouter()
    router.add_api_route("/v2/upload", upload, methods=["POST"])
    router.add_api_route("/v2/transcript", create_transcript, methods=["POST"])
    router.add_api_route("/v2/transcript", list_transcripts, methods=["GET"])
    router.add_api_route("/v2/transcript/{transcript_id}", get_transcript, methods=["GET"])
    router.add_api_route("/v2/transcript/{transcript_id}", delete_transcript, methods=["DELETE"])
    router.add_api_route("/v2/transcript/{transcript_id}/srt", export_srt, methods=["GET"])
    router.add_api_route("/v2/transcript/{transcript_id}/vtt", export_vtt, methods=["GET"])
    router.add_api_route("/v2/transcript/{transcript_id}/sentences", get_sentences, methods=["GET"])
    router.add_api_route(
        "/v2/transcript/{transcript_id}/paragraphs", get_paragraphs, methods=["GET"]
    )
    router.add_api_route(
        "/v2/transcript/{transcript_id}/word-search", search_words, methods=["GET"]
    )
    router.add_api_route(
        "/v2/transcript/{transcript_id}/redacted-audio", redacted_audio, methods=["GET"]
    )
    router.add_api_route("/v2/redacted-audio/{upload_id}", redacted_audio_file, methods=["GET"])
    return router


async def upload(request: Request, caller: ApiCaller, services: AppServices) -> JSONResponse:
    """``POST /v2/upload``: stream the raw body to disk (chunked or with Content-Length)."""
    max_bytes = services.settings.server.max_upload_mb * 1_000_000
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large("upload", max_bytes)
    upload_id = FileStore.new_id()
    with services.files.upload_writer(upload_id, max_bytes) as writer:
        async for chunk in request.stream():
            if chunk:
                writer.write(chunk)
        if writer.size == 0:
            raise InputError("Upload error, the request body is empty: send the file's bytes")
        path = await run_in_threadpool(writer.commit)
    record = UploadRecord(
        id=upload_id, owner=caller.owner, path=str(path), size=writer.size, created=utc_now()
    )
    # off the event loop: the PostgreSQL store copies the file into the database
    try:
        await run_in_threadpool(services.store.add_upload, record)
    except BaseException:
        services.files.discard(path)  # never a file that no index knows of
        raise
    return JSONResponse({"upload_url": f"{base_url(request)}/v2/upload/{upload_id}"})


async def create_transcript(
    request: Request, caller: ApiCaller, services: AppServices
) -> JSONResponse:
    """``POST /v2/transcript``: validate, store (``queued``), enqueue; answers 200."""
    saved = saved_lists(services.store, caller.owner)  # custom_tags: "<saved list name>"
    accepted = accept(decode_json_body(await request.body()), services.pipeline.config, saved)
    audio_url = (accepted.params.audio_url or "").strip()
    if not audio_url:
        raise InputError("Transcript creation error, audio_url not found")
    if urlsplit(audio_url).scheme not in ("http", "https") or not urlsplit(audio_url).netloc:
        shown = audio_url if len(audio_url) <= 200 else audio_url[:200] + "..."
        raise InputError(
            f"Transcript creation error, audio_url must be an http or https URL, not {shown!r}"
        )
    if accepted.params.webhook_url is not None:
        await run_in_threadpool(_check_webhook_url, services, accepted.params.webhook_url)  # DNS
    job = JobRecord(
        id=str(uuid.uuid4()),
        owner=caller.owner,
        status="queued",
        created=utc_now(),
        audio_url=audio_url,
        request=accepted.echo,
        options=options_to_json(accepted.options),
        webhook_secret=accepted.params.webhook_auth_header_value,
        upload_id=_local_upload(services, request, audio_url, caller.owner),
    )
    stored = services.store.create(job)
    services.queue.enqueue(stored.id)
    return JSONResponse(render_transcript(stored))


def decode_json_body(raw: bytes) -> object:
    """A request body as JSON, or a 400 that says why not (never a 500: NaN/Infinity
    literals and nesting too deep for the decoder are refused too)."""

    def refuse_constant(name: str) -> object:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(raw or b"null", parse_constant=refuse_constant)
    except RecursionError as exc:
        raise InputError("Invalid request: the JSON body is nested too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"Transcript creation error, the request body is not valid JSON: {exc}"
        ) from exc


def _check_webhook_url(services: Services, url: str) -> None:
    try:
        resolve_target(url, services.settings.server.allow_private_urls)
    except DownloadError as exc:
        shown = url if len(url) <= 200 else url[:200] + "..."
        raise InputError(f"Transcript creation error, webhook_url {shown!r}: {exc}") from exc


def _local_upload(services: Services, request: Request, audio_url: str, owner: str) -> str | None:
    """The upload id when ``audio_url`` is one of this server's upload URLs."""
    parts = urlsplit(audio_url)
    match = _UPLOAD_PATH.search(parts.path)
    if match is None:
        return None
    upload_id = match.group(1)
    upload = services.store.get_upload(upload_id)
    if upload is not None and upload.owner == owner:
        return upload_id
    ours = {urlsplit(base_url(request)).netloc, request.headers.get("host", "")}
    return upload_id if parts.netloc in ours else None


def _lookup(services: Services, transcript_id: str, owner: str) -> JobRecord:
    job = services.store.get(transcript_id, owner)
    if job is None:
        raise InputError(LOOKUP_ERROR)
    return job


def _completed(
    services: Services, transcript_id: str, owner: str, what: str
) -> tuple[JobRecord, JobResult]:
    job = _lookup(services, transcript_id, owner)
    if job.deleted:
        raise InputError(f"{what} error, the transcript was deleted")
    if job.status != "completed" or job.result is None:
        detail = f": {job.error}" if job.error else ""
        raise InputError(f"{what} error, the transcript is {job.status}, not completed{detail}")
    return job, job.result


async def get_transcript(request: Request) -> Response:
    """``GET /v2/transcript/{id}``: 200 for every status, failed jobs included.

    The polling hot path: no FastAPI dependencies (auth and services are read inline), and
    finished transcripts come from the render cache while their version holds.
    """
    caller = authenticate(request)
    services = get_services(request)
    transcript_id: str = request.path_params["transcript_id"]
    version = services.store.version(transcript_id, caller.owner)
    if version is None:
        raise InputError(LOOKUP_ERROR)
    cache: RenderCache = request.app.state.render_cache
    key = (transcript_id, caller.owner)
    body = cache.get(key, version)
    if body is None:
        job = _lookup(services, transcript_id, caller.owner)
        body = json_bytes(render_transcript(job))
        if job.status in TERMINAL:
            cache.put(key, (job.status, job.webhook_status_code, job.deleted, job.completed), body)
    return Response(body, media_type="application/json")


def json_bytes(content: Any) -> bytes:
    """JSON exactly as :class:`JSONResponse` encodes it."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


async def delete_transcript(
    transcript_id: str, caller: ApiCaller, services: AppServices
) -> JSONResponse:
    """``DELETE /v2/transcript/{id}``: wipe text, words, tags, and the uploaded audio when
    no other transcript needs it.

    The upload (file, index, and on PostgreSQL its bytes) goes only when no *other* live
    (not deleted) transcript of this key uses the same ``upload_url``, whatever that one's
    status: queued/processing ones must still run, completed/failed ones may be re-read or
    re-run. Otherwise it stays until the last of them is deleted
    (:mod:`earmark.storage.sweep`), so deleting one transcript never breaks another.
    """
    job = _lookup(services, transcript_id, caller.owner)
    if job.status not in TERMINAL:
        raise InputError(
            f"Transcript deletion error, the transcript is still {job.status}; delete it once "
            "it has completed or failed"
        )
    deleted = services.store.delete(transcript_id, caller.owner)
    if deleted is None:
        raise InputError(LOOKUP_ERROR)
    if job.result is not None and job.result.redacted_audio:
        await run_in_threadpool(
            release_upload, services.store, services.files, job.result.redacted_audio, caller.owner
        )
    if deleted.upload_id:
        # off the event loop: on PostgreSQL this drops the upload's chunks
        await run_in_threadpool(
            release_upload, services.store, services.files, deleted.upload_id, caller.owner
        )
    return JSONResponse(render_transcript(deleted))


async def list_transcripts(request: Request, caller: ApiCaller, services: AppServices) -> Response:
    """``GET /v2/transcript``: newest first, with absolute ``prev_url``/``next_url``."""
    q = request.query_params
    query = _list_query(q.get("limit"), q.get("status"), q.get("created_on"), q)
    page = services.store.list_page(caller.owner, query)
    base = base_url(request)
    here = f"{base}/v2/transcript"
    keep = {k: v for k, v in q.items() if k not in ("before_id", "after_id")}
    keep["limit"] = str(query.limit)
    prev_url = next_url = None
    if page.items and page.has_older:
        prev_url = f"{here}?{urlencode({**keep, 'before_id': page.items[-1].id})}"
    if page.items and page.has_newer:
        next_url = f"{here}?{urlencode({**keep, 'after_id': page.items[0].id})}"
    current = f"{here}?{q}" if str(q) else here
    return JSONResponse(
        {
            "page_details": {
                "limit": query.limit,
                "result_count": len(page.items),
                "current_url": current,
                "prev_url": prev_url,
                "next_url": next_url,
            },
            "transcripts": [render_list_item(j, base) for j in page.items],
        }
    )


def _list_query(limit: str | None, status: str | None, created_on: str | None, q: Any) -> ListQuery:
    n = 10
    if limit is not None:
        if not limit.isdigit() or not 1 <= int(limit) <= 200:
            raise InputError("Transcript list error, limit must be a whole number from 1 to 200")
        n = int(limit)
    if status is not None and status not in _STATUSES:
        raise InputError(f"Transcript list error, status must be one of {', '.join(_STATUSES)}")
    if created_on is not None and not _DATE.match(created_on):
        raise InputError("Transcript list error, created_on must be a date like 2024-05-31")
    before, after = q.get("before_id"), q.get("after_id")
    return ListQuery(
        limit=n,
        status=status,  # type: ignore[arg-type]
        created_on=created_on,
        before_id=before or None,
        after_id=after or None,
    )


def _chars(request: Request) -> int | None:
    raw = request.query_params.get("chars_per_caption")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise InputError("Subtitles error, chars_per_caption must be a positive whole number")
    return int(raw)


async def export_srt(
    transcript_id: str, request: Request, caller: ApiCaller, services: AppServices
) -> PlainTextResponse:
    """``GET /v2/transcript/{id}/srt``."""
    from earmark.export import to_srt

    _, result = _completed(services, transcript_id, caller.owner, "Subtitles")
    return PlainTextResponse(to_srt(result.transcript, _chars(request)))


async def export_vtt(
    transcript_id: str, request: Request, caller: ApiCaller, services: AppServices
) -> PlainTextResponse:
    """``GET /v2/transcript/{id}/vtt``."""
    from earmark.export import to_vtt

    _, result = _completed(services, transcript_id, caller.owner, "Subtitles")
    return PlainTextResponse(to_vtt(result.transcript, _chars(request)))


def _header(job: JobRecord, result: JobResult) -> dict[str, Any]:
    """The fields ``SentencesResponse`` and ``ParagraphsResponse`` share; nothing else (the
    spec's schemas have ``additionalProperties: false``: no ``speech_model_used`` here)."""
    t = result.transcript
    return {
        "id": job.id,
        "confidence": round(t.confidence, 4),
        "audio_duration": int(-(-t.duration_ms // 1000)),
    }


async def get_sentences(transcript_id: str, caller: ApiCaller, services: AppServices) -> Response:
    """``GET /v2/transcript/{id}/sentences``."""
    job, result = _completed(services, transcript_id, caller.owner, "Sentences")
    return JSONResponse({**_header(job, result), "sentences": sentences(result.transcript)})


async def get_paragraphs(transcript_id: str, caller: ApiCaller, services: AppServices) -> Response:
    """``GET /v2/transcript/{id}/paragraphs``."""
    job, result = _completed(services, transcript_id, caller.owner, "Paragraphs")
    return JSONResponse({**_header(job, result), "paragraphs": paragraphs(result.transcript)})


async def search_words(
    transcript_id: str, request: Request, caller: ApiCaller, services: AppServices
) -> Response:
    """``GET /v2/transcript/{id}/word-search?words=a,b%20c``."""
    terms = parse_terms(request.query_params.get("words", ""))
    job, result = _completed(services, transcript_id, caller.owner, "Word search")
    return JSONResponse({"id": job.id, **word_search(result.transcript, terms)})


async def redacted_audio(
    transcript_id: str, request: Request, caller: ApiCaller, services: AppServices
) -> Response:
    """``GET /v2/transcript/{id}/redacted-audio``: where the PII-redacted audio is.

    200 ``{status: "redacted_audio_ready", redacted_audio_url}`` once the job has completed
    with ``redact_pii_audio``; 202 while it runs (the Python SDK polls again); 400 when it was
    not asked for, the job failed, or the file has expired (after ``EARMARK_UPLOAD_TTL_HOURS``,
    like any upload). The URL needs no key, as AssemblyAI's: it is an unguessable id.
    """
    job = _lookup(services, transcript_id, caller.owner)
    if not job.request.get("redact_pii_audio"):
        raise InputError(
            "Redacted audio error, this transcript was not created with redact_pii_audio: true"
        )
    if job.status in ("queued", "processing"):
        return JSONResponse({"status": job.status}, status_code=202)
    result = job.result
    if job.deleted or result is None or not result.redacted_audio:
        raise InputError(f"Redacted audio error, no redacted audio ({job.error or job.status})")
    if await run_in_threadpool(services.store.get_upload, result.redacted_audio) is None:
        raise InputError("Redacted audio error, the redacted audio has expired")
    url = f"{base_url(request)}/v2/redacted-audio/{result.redacted_audio}"
    return JSONResponse({"status": "redacted_audio_ready", "redacted_audio_url": url})


async def redacted_audio_file(upload_id: str, services: AppServices) -> Response:
    """``GET /v2/redacted-audio/{id}``: the redacted audio itself (no key: SDKs fetch it
    without one). Only redacted audio is ever served here, never a client's upload."""
    from fastapi.responses import FileResponse

    if not upload_id.startswith(REDACTED_PREFIX) or not re.fullmatch(r"r[0-9a-f]{32}", upload_id):
        raise NotFoundError("Redacted audio not found")
    path = await run_in_threadpool(services.store.local_upload_path, upload_id)
    if path is None:
        raise NotFoundError("Redacted audio not found (it may have expired)")
    media = "audio/wav" if _is_wav(path) else "audio/mpeg"
    return FileResponse(path, media_type=media)


def _is_wav(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"RIFF"

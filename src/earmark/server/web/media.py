"""A transcript's recording, served with HTTP Range requests so the player can seek.

The bytes are the upload the transcript was made from: the uploaded file on this machine
(SQLite, local files), or on PostgreSQL this process's cached copy of the bytes the
database holds (:meth:`earmark.storage.postgres.PostgresStore.materialize_upload`).
One range per request (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``): 206 with
``Content-Range``; a range that cannot be satisfied, or one that cannot be read, is a 416
with ``Content-Range: bytes */<size>``. Transcripts made from an ``audio_url`` have no
media here (the page says so; nothing is fetched from another host).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from earmark.errors import NotFoundError
from earmark.server.deps import get_services
from earmark.server.web.session import page_user, secure_headers
from earmark.storage.base import JobRecord, TranscriptStore

__all__ = ["media_file", "media_kind", "serve_media"]

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 256 * 1024


def media_file(store: TranscriptStore, job: JobRecord) -> Path | None:
    """The local file of a transcript's upload, or ``None`` (no upload, gone)."""
    if job.upload_id is None or job.deleted:
        return None
    upload = store.get_upload(job.upload_id)
    if upload is None or upload.owner != job.owner:
        return None
    return store.local_upload_path(job.upload_id)


def _sniff(head: bytes) -> str:
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return "application/octet-stream"


@functools.lru_cache(maxsize=256)
def _kind(path: str, size: int) -> tuple[str, bool]:
    """The content type and whether the file has a video track (cached by path and size)."""
    with open(path, "rb") as fh:
        ctype = _sniff(fh.read(16))
    video = False
    if ctype in ("video/mp4", "video/webm"):
        try:
            import av

            with av.open(path) as container:
                video = any(s.type == "video" for s in container.streams)
        except Exception:  # an unreadable container plays as audio, or not at all
            video = False
        if not video:
            ctype = "audio/mp4" if ctype == "video/mp4" else "audio/webm"
    return ctype, video


def media_kind(path: Path) -> tuple[str, bool]:
    """``(content_type, is_video)`` of a media file."""
    return _kind(str(path), path.stat().st_size)


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte of a single range, inclusive; ``None`` if unsatisfiable."""
    match = _RANGE.match(header.strip())
    if match is None or size == 0:
        return None
    a, b = match.groups()
    if not a and not b:
        return None
    if not a:
        n = int(b)
        if n == 0:
            return None
        return max(0, size - n), size - 1
    first = int(a)
    last = int(b) if b else size - 1
    if first >= size or last < first:
        return None
    return first, min(last, size - 1)


def _stream(path: Path, first: int, last: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = fh.read(min(_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


async def serve_media(transcript_id: str, request: Request) -> Response:
    """``GET /media/{transcript_id}``: the recording, with Range support."""
    user = page_user(request)
    services = get_services(request)
    job = services.store.get(transcript_id, user.owner)
    if job is None or job.deleted:
        raise NotFoundError("Not found")
    path = await run_in_threadpool(media_file, services.store, job)
    if path is None:
        raise NotFoundError("Not found")
    size = path.stat().st_size
    ctype, _ = await run_in_threadpool(media_kind, path)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
    header = request.headers.get("range")
    if header is None:
        headers["Content-Length"] = str(size)
        return secure_headers(
            StreamingResponse(_stream(path, 0, size - 1), media_type=ctype, headers=headers)
        )
    span = parse_range(header, size)
    if span is None:
        return secure_headers(
            Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
        )
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1)
    return secure_headers(
        StreamingResponse(
            _stream(path, first, last), status_code=206, media_type=ctype, headers=headers
        )
    )

"""The job statements shared by the SQLite and PostgreSQL stores.

Both stores keep the same ``transcripts`` table and move jobs between states with the
same conditional ``UPDATE`` statements (compare-and-set). The statements are written once
here, with ``?`` placeholders; a :class:`Dialect` supplies what differs: the placeholder
(``%s`` for psycopg) and how to read ``request.webhook_url`` out of the JSON column.
:class:`SQLStore` implements every job method on top of two primitives a backend provides
(:meth:`SQLStore._rows` and :meth:`SQLStore._change`); a backend adds connections, job
creation and uploads. How long uploads live (:meth:`SQLStore.upload_users`,
:meth:`SQLStore.expired_uploads`, :meth:`SQLStore.remove_upload`) is written here once too.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from earmark.errors import InputError
from earmark.storage.base import (
    JobRecord,
    JobResult,
    ListQuery,
    Page,
    TranscriptStore,
    UploadRecord,
    WebhookState,
    utc_now,
)
from earmark.storage.codec import dump_result, load_result

__all__ = [
    "COLUMNS",
    "DELETED_URL",
    "POSTGRES",
    "REMOVE_UNUSED_UPLOAD",
    "SCRUB",
    "SQLITE",
    "UPLOAD_COLUMNS",
    "Dialect",
    "SQLStore",
    "job_from_row",
    "scrubbed",
    "upload_from_row",
]

Row = Mapping[str, Any]

COLUMNS = (
    "seq, id, owner, status, created, completed, audio_url, upload_id, request, "
    "webhook_secret, error, attempts, webhook_state, webhook_status_code, "
    "webhook_attempts, deleted, options"
)
DELETED_URL = "http://deleted_by_user"
_SCRUBBED_FIELDS = ("custom_tags", "prompt", "keyterms_prompt", "word_boost", "custom_spelling")


@dataclass(frozen=True)
class Dialect:
    """What differs between the two SQL dialects.

    placeholder: the driver's parameter marker (``?`` for sqlite3, ``%s`` for psycopg).
    webhook_url: an expression for the request's ``webhook_url`` as text (or NULL).
    """

    placeholder: str
    webhook_url: str

    def sql(self, statement: str) -> str:
        """``statement`` (written with ``?`` markers) in this dialect."""
        text = statement.replace("{webhook_url}", self.webhook_url)
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)


SQLITE = Dialect("?", "json_extract(request, '$.webhook_url')")
POSTGRES = Dialect("%s", "(request->>'webhook_url')")

_WEBHOOK_PENDING = (
    "webhook_state = CASE WHEN coalesce({webhook_url}, '') <> '' THEN 'pending' ELSE NULL END"
)
_GET = f"SELECT {COLUMNS}, result FROM transcripts WHERE id = ?"
_VERSION = (
    "SELECT status, webhook_status_code, deleted, completed FROM transcripts "
    "WHERE id = ? AND owner = ?"
)
_SEQ = "SELECT seq FROM transcripts WHERE id = ? AND owner = ?"
_CLAIM = (
    "UPDATE transcripts SET status = 'processing', attempts = attempts + 1 "
    "WHERE id = ? AND status = 'queued' AND NOT deleted"
)
_FINISH = (
    f"UPDATE transcripts SET status = ?, result = ?, error = ?, completed = ?, {_WEBHOOK_PENDING} "
    "WHERE id = ? AND status = 'processing' AND NOT deleted"
)
_FAIL_QUEUED = (
    f"UPDATE transcripts SET status = 'error', error = ?, completed = ?, {_WEBHOOK_PENDING} "
    "WHERE id = ? AND status = 'queued' AND NOT deleted"
)
_REQUEUE_ALL = (
    "UPDATE transcripts SET status = 'queued' WHERE status = 'processing' AND NOT deleted"
)
_QUEUED_IDS = "SELECT id FROM transcripts WHERE status = 'queued' AND NOT deleted ORDER BY seq"
SCRUB = (
    "UPDATE transcripts SET deleted = TRUE, result = NULL, audio_url = ?, request = ?, "
    "options = NULL, webhook_secret = NULL WHERE id = ? AND owner = ?"
)
_SET_WEBHOOK = (
    "UPDATE transcripts SET webhook_state = ?, webhook_status_code = ?, webhook_attempts = ? "
    "WHERE id = ?"
)
_PENDING_WEBHOOKS = "SELECT id FROM transcripts WHERE webhook_state = 'pending' ORDER BY seq"

# Uploads live while a live (not deleted) transcript of their owner refers to them.
UPLOAD_COLUMNS = "id, owner, path, size, created"
_LIVE_USER = (
    "SELECT 1 FROM transcripts t WHERE t.upload_id = uploads.id AND t.owner = uploads.owner "
    "AND NOT t.deleted"
)
_UPLOAD_USERS = (
    "SELECT count(*) AS n FROM transcripts WHERE upload_id = ? AND owner = ? AND NOT deleted"
)
_EXPIRED_UPLOADS = (
    f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE created < ? AND NOT EXISTS ({_LIVE_USER}) "
    "ORDER BY created"
)
REMOVE_UNUSED_UPLOAD = (
    f"DELETE FROM uploads WHERE id = ? AND owner = ? AND NOT EXISTS ({_LIVE_USER}) "
    f"RETURNING {UPLOAD_COLUMNS}"
)


def scrubbed(request: Mapping[str, Any]) -> dict[str, Any]:
    """A deleted transcript's request: URLs replaced, prompts and tags removed."""
    out = dict(request)
    out["audio_url"] = DELETED_URL
    if out.get("webhook_url"):
        out["webhook_url"] = DELETED_URL
    for key in _SCRUBBED_FIELDS:
        out.pop(key, None)
    return out


def job_from_row(row: Row, *, with_result: bool) -> JobRecord:
    """A :class:`JobRecord` from a row of :data:`COLUMNS` (plus ``result`` if wanted)."""
    raw = row["result"] if with_result else None
    request = row["request"]
    options = row["options"]
    if isinstance(options, str):
        options = json.loads(options)
    return JobRecord(
        id=row["id"],
        owner=row["owner"],
        status=row["status"],
        created=row["created"],
        audio_url=row["audio_url"],
        request=json.loads(request) if isinstance(request, str) else dict(request),
        options=dict(options) if options is not None else None,
        webhook_secret=row["webhook_secret"],
        upload_id=row["upload_id"],
        completed=row["completed"],
        error=row["error"],
        result=load_result(raw) if raw else None,
        attempts=int(row["attempts"]),
        webhook_state=row["webhook_state"],
        webhook_status_code=row["webhook_status_code"],
        webhook_attempts=int(row["webhook_attempts"]),
        deleted=bool(row["deleted"]),
        seq=int(row["seq"]),
    )


def upload_from_row(row: Row) -> UploadRecord:
    """An :class:`UploadRecord` from a row of :data:`UPLOAD_COLUMNS`."""
    return UploadRecord(
        id=row["id"],
        owner=row["owner"],
        path=str(row["path"]),
        size=int(row["size"]),
        created=row["created"],
    )


class SQLStore(TranscriptStore):
    """The job methods of a SQL :class:`TranscriptStore`, written once for both dialects."""

    dialect: Dialect = SQLITE

    @abstractmethod
    def _rows(self, statement: str, args: Sequence[Any] = ()) -> list[Row]:
        """Run a query (already in this dialect) and return its rows as mappings."""

    @abstractmethod
    def _change(self, statement: str, args: Sequence[Any] = ()) -> int:
        """Run one data-changing statement (autocommit); returns the rows it changed."""

    @abstractmethod
    def _encode_request(self, request: Mapping[str, Any]) -> Any:
        """The request dict as the driver stores it in the JSON column."""

    def _one(self, statement: str, args: Sequence[Any] = ()) -> Row | None:
        rows = self._rows(self.dialect.sql(statement), args)
        return rows[0] if rows else None

    def get(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        if owner is None:
            row = self._one(_GET, (job_id,))
        else:
            row = self._one(_GET + " AND owner = ?", (job_id, owner))
        return job_from_row(row, with_result=True) if row is not None else None

    def version(self, job_id: str, owner: str) -> tuple[object, ...] | None:
        row = self._one(_VERSION, (job_id, owner))
        if row is None:
            return None
        return (row["status"], row["webhook_status_code"], bool(row["deleted"]), row["completed"])

    def list_page(self, owner: str, query: ListQuery) -> Page:
        filters, args = ["owner = ?"], [owner]
        if query.status:
            filters.append("status = ?")
            args.append(query.status)
        if query.created_on:
            filters.append("substr(created, 1, 10) = ?")
            args.append(query.created_on)
        before = self._seq(query.before_id, owner)
        after = self._seq(query.after_id, owner)
        bounds = [f"seq {op} ?" for op, s in (("<", before), (">", after)) if s is not None]
        bound_args = [s for s in (before, after) if s is not None]
        # the page next to `after_id` when only that is given, else the newest page
        order = "ASC" if after is not None and before is None else "DESC"
        sql = (
            f"SELECT {COLUMNS} FROM transcripts WHERE {' AND '.join(filters + bounds)} "
            f"ORDER BY seq {order} LIMIT ?"
        )
        rows = self._rows(self.dialect.sql(sql), (*args, *bound_args, max(1, query.limit)))
        items = sorted((job_from_row(r, with_result=False) for r in rows), key=lambda j: -j.seq)
        if not items:
            return Page(items=(), has_older=False, has_newer=False)
        where = " AND ".join(filters)
        older = self._exists(where, args, "seq < ?", items[-1].seq)
        newer = self._exists(where, args, "seq > ?", items[0].seq)
        return Page(items=tuple(items), has_older=older, has_newer=newer)

    def _exists(self, where: str, args: list[Any], extra: str, seq: int) -> bool:
        sql = f"SELECT 1 AS found FROM transcripts WHERE {where} AND {extra} LIMIT 1"
        return self._one(sql, (*args, seq)) is not None

    def _seq(self, job_id: str | None, owner: str) -> int | None:
        if not job_id:
            return None
        row = self._one(_SEQ, (job_id, owner))
        if row is None:
            raise InputError(f"Transcript list error, transcript id {job_id!r} not found")
        return int(row["seq"])

    def claim(self, job_id: str) -> JobRecord | None:
        if self._change(self.dialect.sql(_CLAIM), (job_id,)) != 1:
            return None
        return self.get(job_id)

    def finish(
        self, job_id: str, *, result: JobResult | None = None, error: str | None = None
    ) -> bool:
        if (result is None) == (error is None):
            raise ValueError("finish() needs exactly one of result or error")
        status = "completed" if result is not None else "error"
        payload = dump_result(result) if result is not None else None
        args = (status, payload, error, utc_now(), job_id)
        return self._change(self.dialect.sql(_FINISH), args) == 1

    def fail_queued(self, job_id: str, error: str) -> bool:
        return self._change(self.dialect.sql(_FAIL_QUEUED), (error, utc_now(), job_id)) == 1

    def requeue_interrupted(self) -> list[str]:
        self._change(self.dialect.sql(_REQUEUE_ALL))
        return [str(r["id"]) for r in self._rows(self.dialect.sql(_QUEUED_IDS))]

    def delete(self, job_id: str, owner: str) -> JobRecord | None:
        job = self.get(job_id, owner)
        if job is None:
            return None
        request = self._encode_request(scrubbed(job.request))
        self._change(self.dialect.sql(SCRUB), (DELETED_URL, request, job_id, owner))
        return self.get(job_id, owner)

    def set_webhook(
        self, job_id: str, *, state: WebhookState, status_code: int | None, attempts: int
    ) -> None:
        self._change(self.dialect.sql(_SET_WEBHOOK), (state, status_code, attempts, job_id))

    def pending_webhooks(self) -> list[str]:
        return [str(r["id"]) for r in self._rows(self.dialect.sql(_PENDING_WEBHOOKS))]

    # -- upload lifetime ----------------------------------------------------------

    def upload_users(self, upload_id: str, owner: str) -> int:
        row = self._one(_UPLOAD_USERS, (upload_id, owner))
        return int(row["n"]) if row is not None else 0

    def expired_uploads(self, before: str) -> list[UploadRecord]:
        rows = self._rows(self.dialect.sql(_EXPIRED_UPLOADS), (before,))
        return [upload_from_row(r) for r in rows]

    def remove_upload(self, upload_id: str, owner: str) -> UploadRecord | None:
        # one statement: the check and the delete are atomic (SQLite serializes writers)
        row = self._one(REMOVE_UNUSED_UPLOAD, (upload_id, owner))
        return upload_from_row(row) if row is not None else None

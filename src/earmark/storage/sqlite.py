"""The embedded :class:`TranscriptStore`: one SQLite file (stdlib ``sqlite3``, WAL mode).

Each thread gets its own connection. Every state change is a single conditional
``UPDATE`` in autocommit mode, so it is atomic and durable once the call returns, even if
the process is killed right after (WAL with ``synchronous=NORMAL`` survives a process crash;
only a power loss can drop the last transactions).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
from pathlib import Path
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
from earmark.storage.migrations import migrate

__all__ = ["SQLiteStore"]

_COLUMNS = (
    "seq, id, owner, status, created, completed, audio_url, upload_id, request, "
    "webhook_secret, error, attempts, webhook_state, webhook_status_code, "
    "webhook_attempts, deleted"
)


class SQLiteStore(TranscriptStore):
    """Transcript jobs and uploads in a SQLite database file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        migrate(self._conn())

    # -- connections ------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed elsewhere already
                conn.close()
        self._local = threading.local()

    # -- jobs -----------------------------------------------------------------------

    def create(self, job: JobRecord) -> JobRecord:
        cur = self._conn().execute(
            "INSERT INTO transcripts (id, owner, status, created, audio_url, upload_id, "
            "request, webhook_secret, webhook_state) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, NULL)",
            (
                job.id,
                job.owner,
                job.created,
                job.audio_url,
                job.upload_id,
                json.dumps(job.request, ensure_ascii=False),
                job.webhook_secret,
            ),
        )
        return dataclasses.replace(job, status="queued", seq=int(cur.lastrowid or 0))

    def get(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        sql = f"SELECT {_COLUMNS}, result FROM transcripts WHERE id = ?"
        args: tuple[Any, ...] = (job_id,)
        if owner is not None:
            sql += " AND owner = ?"
            args = (job_id, owner)
        row = self._conn().execute(sql, args).fetchone()
        return _job(row, with_result=True) if row is not None else None

    def version(self, job_id: str, owner: str) -> tuple[object, ...] | None:
        row = (
            self._conn()
            .execute(
                "SELECT status, webhook_status_code, deleted, completed FROM transcripts "
                "WHERE id = ? AND owner = ?",
                (job_id, owner),
            )
            .fetchone()
        )
        return (row[0], row[1], bool(row[2]), row[3]) if row is not None else None

    def list_page(self, owner: str, query: ListQuery) -> Page:
        where = ["owner = ?"]
        args: list[Any] = [owner]
        if query.status:
            where.append("status = ?")
            args.append(query.status)
        if query.created_on:
            where.append("substr(created, 1, 10) = ?")
            args.append(query.created_on)
        before = self._seq(query.before_id, owner)
        after = self._seq(query.after_id, owner)
        if before is not None:
            where.append("seq < ?")
            args.append(before)
        if after is not None:
            where.append("seq > ?")
            args.append(after)
        limit = max(1, query.limit)
        # the page next to `after_id` when only that is given, else the newest page
        order = "ASC" if after is not None and before is None else "DESC"
        rows = (
            self._conn()
            .execute(
                f"SELECT {_COLUMNS} FROM transcripts WHERE {' AND '.join(where)} "
                f"ORDER BY seq {order} LIMIT ?",
                (*args, limit),
            )
            .fetchall()
        )
        items = [_job(r, with_result=False) for r in rows]
        items.sort(key=lambda j: j.seq, reverse=True)
        if not items:
            return Page(items=(), has_older=False, has_newer=False)
        filters = _filters_only(where)
        base, filt_args = " AND ".join(filters), args[: len(filters)]
        older = self._exists(base, filt_args, "seq < ?", items[-1].seq)
        newer = self._exists(base, filt_args, "seq > ?", items[0].seq)
        return Page(items=tuple(items), has_older=older, has_newer=newer)

    def _exists(self, base: str, args: list[Any], extra: str, seq: int) -> bool:
        row = (
            self._conn()
            .execute(f"SELECT 1 FROM transcripts WHERE {base} AND {extra} LIMIT 1", (*args, seq))
            .fetchone()
        )
        return row is not None

    def _seq(self, job_id: str | None, owner: str) -> int | None:
        if not job_id:
            return None
        row = (
            self._conn()
            .execute("SELECT seq FROM transcripts WHERE id = ? AND owner = ?", (job_id, owner))
            .fetchone()
        )
        if row is None:
            raise InputError(f"Transcript list error, transcript id {job_id!r} not found")
        return int(row[0])

    def claim(self, job_id: str) -> JobRecord | None:
        cur = self._conn().execute(
            "UPDATE transcripts SET status = 'processing', attempts = attempts + 1 "
            "WHERE id = ? AND status = 'queued' AND deleted = 0",
            (job_id,),
        )
        return self.get(job_id) if cur.rowcount == 1 else None

    def finish(
        self, job_id: str, *, result: JobResult | None = None, error: str | None = None
    ) -> bool:
        if (result is None) == (error is None):
            raise ValueError("finish() needs exactly one of result or error")
        status = "completed" if result is not None else "error"
        cur = self._conn().execute(
            "UPDATE transcripts SET status = ?, result = ?, error = ?, completed = ?, "
            "webhook_state = CASE WHEN json_extract(request, '$.webhook_url') IS NOT NULL "
            "AND json_extract(request, '$.webhook_url') != '' THEN 'pending' ELSE NULL END "
            "WHERE id = ? AND status = 'processing' AND deleted = 0",
            (
                status,
                dump_result(result) if result is not None else None,
                error,
                utc_now(),
                job_id,
            ),
        )
        return cur.rowcount == 1

    def fail_queued(self, job_id: str, error: str) -> bool:
        cur = self._conn().execute(
            "UPDATE transcripts SET status = 'error', error = ?, completed = ?, "
            "webhook_state = CASE WHEN json_extract(request, '$.webhook_url') IS NOT NULL "
            "AND json_extract(request, '$.webhook_url') != '' THEN 'pending' ELSE NULL END "
            "WHERE id = ? AND status = 'queued' AND deleted = 0",
            (error, utc_now(), job_id),
        )
        return cur.rowcount == 1

    def requeue_interrupted(self) -> list[str]:
        conn = self._conn()
        conn.execute(
            "UPDATE transcripts SET status = 'queued' WHERE status = 'processing' AND deleted = 0"
        )
        rows = conn.execute(
            "SELECT id FROM transcripts WHERE status = 'queued' AND deleted = 0 ORDER BY seq"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def delete(self, job_id: str, owner: str) -> JobRecord | None:
        job = self.get(job_id, owner)
        if job is None:
            return None
        request = dict(job.request)
        request["audio_url"] = "http://deleted_by_user"
        if request.get("webhook_url"):
            request["webhook_url"] = "http://deleted_by_user"
        for key in ("custom_tags", "prompt", "keyterms_prompt", "word_boost", "custom_spelling"):
            request.pop(key, None)
        self._conn().execute(
            "UPDATE transcripts SET deleted = 1, result = NULL, audio_url = ?, request = ?, "
            "webhook_secret = NULL WHERE id = ? AND owner = ?",
            ("http://deleted_by_user", json.dumps(request), job_id, owner),
        )
        return self.get(job_id, owner)

    def set_webhook(
        self, job_id: str, *, state: WebhookState, status_code: int | None, attempts: int
    ) -> None:
        self._conn().execute(
            "UPDATE transcripts SET webhook_state = ?, webhook_status_code = ?, "
            "webhook_attempts = ? WHERE id = ?",
            (state, status_code, attempts, job_id),
        )

    def pending_webhooks(self) -> list[str]:
        rows = (
            self._conn()
            .execute("SELECT id FROM transcripts WHERE webhook_state = 'pending' ORDER BY seq")
            .fetchall()
        )
        return [str(r[0]) for r in rows]

    # -- uploads --------------------------------------------------------------------

    def add_upload(self, upload: UploadRecord) -> None:
        self._conn().execute(
            "INSERT INTO uploads (id, owner, path, size, created) VALUES (?, ?, ?, ?, ?)",
            (upload.id, upload.owner, upload.path, upload.size, upload.created or utc_now()),
        )

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        row = (
            self._conn()
            .execute(
                "SELECT id, owner, path, size, created FROM uploads WHERE id = ?", (upload_id,)
            )
            .fetchone()
        )
        if row is None:
            return None
        return UploadRecord(
            id=row["id"],
            owner=row["owner"],
            path=row["path"],
            size=row["size"],
            created=row["created"],
        )


def _filters_only(where: list[str]) -> list[str]:
    """The WHERE terms that are filters, not the before/after cursor bounds."""
    return [w for w in where if not w.startswith("seq ")]


def _job(row: sqlite3.Row, *, with_result: bool) -> JobRecord:
    result = load_result(row["result"]) if with_result and row["result"] else None
    return JobRecord(
        id=row["id"],
        owner=row["owner"],
        status=row["status"],
        created=row["created"],
        audio_url=row["audio_url"],
        request=json.loads(row["request"]),
        webhook_secret=row["webhook_secret"],
        upload_id=row["upload_id"],
        completed=row["completed"],
        error=row["error"],
        result=result,
        attempts=int(row["attempts"]),
        webhook_state=row["webhook_state"],
        webhook_status_code=row["webhook_status_code"],
        webhook_attempts=int(row["webhook_attempts"]),
        deleted=bool(row["deleted"]),
        seq=int(row["seq"]),
    )

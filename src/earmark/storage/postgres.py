"""The PostgreSQL :class:`TranscriptStore`, for several servers and workers on many machines.

psycopg 3 with a small thread-safe connection pool; every connection works in one schema
(``search_path``), so a database can hold several earmark installations (or throwaway test
schemas). Semantics are those of the SQLite store: each state move is one conditional
``UPDATE`` (compare-and-set), so a job run twice by an at-least-once queue is stored once.

Two additions serve the multi-machine setup:

- **create hooks** run inside the transaction that inserts a job, so the procrastinate
  queue defers the job atomically with its row (a crash can never leave a stored job that
  no worker will run, nor a queue entry without its row);
- **uploads are copied into the database** (1 MiB ``bytea`` chunks), so a worker on
  another machine can read a file uploaded to any server without a shared filesystem:
  :meth:`PostgresStore.materialize_upload` writes it to the worker's cache folder.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Json

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
from earmark.storage.pg_migrations import check_schema_name, migrate
from earmark.storage.pg_uploads import cache_path, clean_cache, read_into, write_chunks

__all__ = ["CreateHook", "PostgresOptions", "PostgresStore"]

CreateHook = Callable[[psycopg.Connection[DictRow], JobRecord], None]
"""Runs in the transaction that inserts a job (after the insert, before the commit)."""

_COLUMNS = (
    "seq, id, owner, status, created, completed, audio_url, upload_id, request, "
    "webhook_secret, error, attempts, webhook_state, webhook_status_code, "
    "webhook_attempts, deleted"
)
_WEBHOOK_PENDING = (
    "webhook_state = CASE WHEN coalesce(request->>'webhook_url', '') <> '' "
    "THEN 'pending' ELSE NULL END"
)


@dataclass(frozen=True)
class PostgresOptions:
    """Where and how to connect.

    url: a libpq URL, ``postgresql://user@host:5432/dbname``.
    schema: the schema holding earmark's tables (created if missing).
    cache_dir: where a worker copies the uploads it transcribes (one folder per process).
    max_connections: pool size of this process (connections are opened on demand).
    connect_timeout_s: how long opening the store waits for a first connection.
    """

    url: str
    schema: str = "earmark"
    cache_dir: Path | None = None
    max_connections: int = 8
    connect_timeout_s: float = 10.0

    def connect_kwargs(self) -> dict[str, Any]:
        """psycopg connection arguments besides the URL (search_path, application name)."""
        return {
            "options": f"-c search_path={check_schema_name(self.schema)}",
            "application_name": "earmark",
        }

    @property
    def where(self) -> str:
        """The URL without its user and password, for messages."""
        return self.url.split("@")[-1]


class PostgresStore(TranscriptStore):
    """Transcript jobs and uploads in a PostgreSQL schema."""

    def __init__(self, options: PostgresOptions) -> None:
        self.options = options
        self.schema = check_schema_name(options.schema)
        self._create_hooks: list[CreateHook] = []
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[DictRow]] = (
            psycopg_pool.ConnectionPool(
                options.url,
                connection_class=psycopg.Connection[DictRow],
                kwargs={**options.connect_kwargs(), "autocommit": True, "row_factory": dict_row},
                min_size=1,
                max_size=max(1, options.max_connections),
                open=False,
                check=psycopg_pool.ConnectionPool.check_connection,
                name=f"earmark-{self.schema}",
            )
        )
        try:
            self._pool.open(wait=True, timeout=options.connect_timeout_s)
        except psycopg_pool.PoolTimeout as exc:
            self._pool.close()
            raise InputError(
                f"EARMARK_DATABASE_URL: cannot connect to PostgreSQL at {options.where} "
                f"within {options.connect_timeout_s:g} s (is it running, and does the "
                "database exist?)"
            ) from exc
        with self.connection() as conn:
            migrate(conn, self.schema)
        clean_cache(options.cache_dir)

    # -- connections and hooks ------------------------------------------------------

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A pooled connection (autocommit; open ``conn.transaction()`` for several
        statements). Used by the procrastinate queue to work in the store's transactions."""
        with self._pool.connection() as conn:
            yield conn

    def add_create_hook(self, hook: CreateHook) -> None:
        """Run ``hook(conn, job)`` inside the transaction of every :meth:`create`."""
        self._create_hooks.append(hook)

    def close(self) -> None:
        self._pool.close()

    # -- jobs -----------------------------------------------------------------------

    def create(self, job: JobRecord) -> JobRecord:
        with self.connection() as conn, conn.transaction():
            row = conn.execute(
                "INSERT INTO transcripts (id, owner, status, created, audio_url, upload_id, "
                "request, webhook_secret) VALUES (%s, %s, 'queued', %s, %s, %s, %s, %s) "
                f"RETURNING {_COLUMNS}, result",
                (
                    job.id,
                    job.owner,
                    job.created,
                    job.audio_url,
                    job.upload_id,
                    Json(job.request),
                    job.webhook_secret,
                ),
            ).fetchone()
            if row is None:
                raise RuntimeError(f"transcript {job.id} was not stored")
            stored = _job(row, with_result=True)
            for hook in self._create_hooks:
                hook(conn, stored)
        return stored

    def get(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        sql = f"SELECT {_COLUMNS}, result FROM transcripts WHERE id = %s"
        args: tuple[Any, ...] = (job_id,)
        if owner is not None:
            sql += " AND owner = %s"
            args = (job_id, owner)
        with self.connection() as conn:
            row = conn.execute(sql, args).fetchone()
        return _job(row, with_result=True) if row is not None else None

    def list_page(self, owner: str, query: ListQuery) -> Page:
        filters = ["owner = %s"]
        args: list[Any] = [owner]
        if query.status:
            filters.append("status = %s")
            args.append(query.status)
        if query.created_on:
            filters.append("left(created, 10) = %s")
            args.append(query.created_on)
        with self.connection() as conn:
            before = _seq(conn, query.before_id, owner)
            after = _seq(conn, query.after_id, owner)
            bounds: list[str] = []
            bound_args: list[Any] = []
            if before is not None:
                bounds.append("seq < %s")
                bound_args.append(before)
            if after is not None:
                bounds.append("seq > %s")
                bound_args.append(after)
            # the page next to `after_id` when only that is given, else the newest page
            order = "ASC" if after is not None and before is None else "DESC"
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM transcripts WHERE {' AND '.join(filters + bounds)} "
                f"ORDER BY seq {order} LIMIT %s",
                (*args, *bound_args, max(1, query.limit)),
            ).fetchall()
            items = sorted((_job(r, with_result=False) for r in rows), key=lambda j: -j.seq)
            if not items:
                return Page(items=(), has_older=False, has_newer=False)
            where = " AND ".join(filters)
            older = _exists(conn, where, args, "seq < %s", items[-1].seq)
            newer = _exists(conn, where, args, "seq > %s", items[0].seq)
        return Page(items=tuple(items), has_older=older, has_newer=newer)

    def claim(self, job_id: str) -> JobRecord | None:
        with self.connection() as conn:
            row = conn.execute(
                "UPDATE transcripts SET status = 'processing', attempts = attempts + 1 "
                "WHERE id = %s AND status = 'queued' AND NOT deleted "
                f"RETURNING {_COLUMNS}, result",
                (job_id,),
            ).fetchone()
        return _job(row, with_result=True) if row is not None else None

    def finish(
        self, job_id: str, *, result: JobResult | None = None, error: str | None = None
    ) -> bool:
        if (result is None) == (error is None):
            raise ValueError("finish() needs exactly one of result or error")
        status = "completed" if result is not None else "error"
        with self.connection() as conn:
            cur = conn.execute(
                "UPDATE transcripts SET status = %s, result = %s, error = %s, completed = %s, "
                f"{_WEBHOOK_PENDING} WHERE id = %s AND status = 'processing' AND NOT deleted",
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
        with self.connection() as conn:
            cur = conn.execute(
                f"UPDATE transcripts SET status = 'error', error = %s, completed = %s, "
                f"{_WEBHOOK_PENDING} WHERE id = %s AND status = 'queued' AND NOT deleted",
                (error, utc_now(), job_id),
            )
            return cur.rowcount == 1

    def requeue(self, job_id: str) -> bool:
        """Put one ``processing`` job back to ``queued`` (its worker died); ``False`` if it
        was not processing. Unlike :meth:`requeue_interrupted` this is safe while other
        processes work: the queue calls it only for a job whose worker stopped beating."""
        with self.connection() as conn:
            cur = conn.execute(
                "UPDATE transcripts SET status = 'queued' "
                "WHERE id = %s AND status = 'processing' AND NOT deleted",
                (job_id,),
            )
            return cur.rowcount == 1

    def requeue_interrupted(self) -> list[str]:
        with self.connection() as conn, conn.transaction():
            conn.execute(
                "UPDATE transcripts SET status = 'queued' WHERE status = 'processing' AND NOT deleted"
            )
            rows = conn.execute(
                "SELECT id FROM transcripts WHERE status = 'queued' AND NOT deleted ORDER BY seq"
            ).fetchall()
        return [str(r["id"]) for r in rows]

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
        with self.connection() as conn, conn.transaction():
            conn.execute(
                "UPDATE transcripts SET deleted = TRUE, result = NULL, audio_url = %s, "
                "request = %s, webhook_secret = NULL WHERE id = %s AND owner = %s",
                ("http://deleted_by_user", Json(request), job_id, owner),
            )
            if job.upload_id:  # the audio goes too, as the file on disk does
                conn.execute(
                    "DELETE FROM upload_chunks WHERE upload_id = %s AND upload_id IN "
                    "(SELECT id FROM uploads WHERE owner = %s)",
                    (job.upload_id, owner),
                )
                conn.execute(
                    "UPDATE uploads SET in_db = FALSE WHERE id = %s AND owner = %s",
                    (job.upload_id, owner),
                )
        return self.get(job_id, owner)

    def set_webhook(
        self, job_id: str, *, state: WebhookState, status_code: int | None, attempts: int
    ) -> None:
        with self.connection() as conn:
            conn.execute(
                "UPDATE transcripts SET webhook_state = %s, webhook_status_code = %s, "
                "webhook_attempts = %s WHERE id = %s",
                (state, status_code, attempts, job_id),
            )

    def pending_webhooks(self) -> list[str]:
        with self.connection() as conn:
            rows = conn.execute(
                "SELECT id FROM transcripts WHERE webhook_state = 'pending' ORDER BY seq"
            ).fetchall()
        return [str(r["id"]) for r in rows]

    # -- uploads --------------------------------------------------------------------

    def add_upload(self, upload: UploadRecord) -> None:
        """Index an upload and move its bytes into the database (when the file exists).

        The spooled file is removed once the bytes are committed: the database is the one
        home of uploads, so a transcript deleted through any server loses its audio."""
        path = Path(upload.path)
        copied = path.is_file()
        with self.connection() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO uploads (id, owner, path, size, created, in_db) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    upload.id,
                    upload.owner,
                    upload.path,
                    upload.size,
                    upload.created or utc_now(),
                    copied,
                ),
            )
            if copied:
                write_chunks(conn, upload.id, path)
        if copied:
            with contextlib.suppress(OSError):
                path.unlink()

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        """The upload; its ``path`` is this process's cached copy when the database holds
        the bytes and the original file is not here (see :meth:`materialize_upload`)."""
        with self.connection() as conn:
            row = conn.execute(
                "SELECT id, owner, path, size, created, in_db FROM uploads WHERE id = %s",
                (upload_id,),
            ).fetchone()
        if row is None:
            return None
        path = str(row["path"])
        cached = cache_path(self.options.cache_dir, upload_id)
        if row["in_db"] and cached is not None and not Path(path).is_file():
            path = str(cached)
        return UploadRecord(
            id=row["id"],
            owner=row["owner"],
            path=path,
            size=int(row["size"]),
            created=row["created"],
        )

    def materialize_upload(self, upload_id: str) -> Path | None:
        """Copy an upload kept in the database to this process's cache folder.

        Returns the cached file, or ``None`` when nothing was written: unknown upload, the
        original file is on this machine, or the database holds no bytes for it.
        """
        cached = cache_path(self.options.cache_dir, upload_id)
        with self.connection() as conn:
            row = conn.execute(
                "SELECT path, size, in_db FROM uploads WHERE id = %s", (upload_id,)
            ).fetchone()
            if cached is None or row is None or not row["in_db"] or Path(row["path"]).is_file():
                return None
            if not (cached.is_file() and cached.stat().st_size == int(row["size"])):
                read_into(conn, upload_id, int(row["size"]), cached)
        return cached

    def evict_upload(self, upload_id: str) -> None:
        """Remove this process's cached copy of an upload, if any."""
        cached = cache_path(self.options.cache_dir, upload_id)
        if cached is not None:
            with contextlib.suppress(FileNotFoundError):
                cached.unlink()


def _seq(conn: psycopg.Connection[DictRow], job_id: str | None, owner: str) -> int | None:
    if not job_id:
        return None
    row = conn.execute(
        "SELECT seq FROM transcripts WHERE id = %s AND owner = %s", (job_id, owner)
    ).fetchone()
    if row is None:
        raise InputError(f"Transcript list error, transcript id {job_id!r} not found")
    return int(row["seq"])


def _exists(
    conn: psycopg.Connection[DictRow], where: str, args: list[Any], extra: str, seq: int
) -> bool:
    row = conn.execute(
        f"SELECT 1 FROM transcripts WHERE {where} AND {extra} LIMIT 1", (*args, seq)
    ).fetchone()
    return row is not None


def _job(row: DictRow, *, with_result: bool) -> JobRecord:
    raw = row.get("result") if with_result else None
    request = row["request"]
    return JobRecord(
        id=row["id"],
        owner=row["owner"],
        status=row["status"],
        created=row["created"],
        audio_url=row["audio_url"],
        request=json.loads(request) if isinstance(request, str) else dict(request),
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

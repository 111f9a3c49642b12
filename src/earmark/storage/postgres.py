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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Json

from earmark.errors import InputError
from earmark.storage.base import JobRecord, UploadRecord, utc_now
from earmark.storage.pg_migrations import check_schema_name, migrate
from earmark.storage.pg_uploads import cache_path, clean_cache, read_into, write_chunks
from earmark.storage.sql import (
    COLUMNS,
    POSTGRES,
    REMOVE_UNUSED_UPLOAD,
    Row,
    SQLStore,
    job_from_row,
    upload_from_row,
)

__all__ = ["CreateHook", "PostgresOptions", "PostgresStore"]

CreateHook = Callable[[psycopg.Connection[DictRow], JobRecord], None]
"""Runs in the transaction that inserts a job (after the insert, before the commit)."""


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


class PostgresStore(SQLStore):
    """Transcript jobs and uploads in a PostgreSQL schema."""

    dialect = POSTGRES

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
            if job.upload_id:
                # a share lock on the upload: remove_upload waits for this commit and then
                # sees the new user (or, holding it first, removes the upload before it)
                conn.execute("SELECT 1 FROM uploads WHERE id = %s FOR KEY SHARE", (job.upload_id,))
            row = conn.execute(
                "INSERT INTO transcripts (id, owner, status, created, audio_url, upload_id, "
                "request, webhook_secret, options) "
                "VALUES (%s, %s, 'queued', %s, %s, %s, %s, %s, %s) "
                f"RETURNING {COLUMNS}, result",
                (
                    job.id,
                    job.owner,
                    job.created,
                    job.audio_url,
                    job.upload_id,
                    Json(job.request),
                    job.webhook_secret,
                    None if job.options is None else Json(dict(job.options)),
                ),
            ).fetchone()
            if row is None:
                raise RuntimeError(f"transcript {job.id} was not stored")
            stored = job_from_row(row, with_result=True)
            for hook in self._create_hooks:
                hook(conn, stored)
        return stored

    def _rows(self, statement: str, args: Sequence[Any] = ()) -> list[Row]:
        with self.connection() as conn:
            return list(conn.execute(statement, tuple(args)).fetchall())

    def _change(self, statement: str, args: Sequence[Any] = ()) -> int:
        with self.connection() as conn:
            return conn.execute(statement, tuple(args)).rowcount

    def _encode_request(self, request: Mapping[str, Any]) -> Any:
        return Json(dict(request))

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

    # -- uploads --------------------------------------------------------------------

    def add_upload(self, upload: UploadRecord) -> None:
        """Index an upload and move its bytes into the database (when the file exists).

        The spooled file is removed once the bytes are committed: the database is the one
        home of uploads, so :meth:`remove_upload` through any server removes the audio."""
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

    def remove_upload(self, upload_id: str, owner: str) -> UploadRecord | None:
        """Remove ``owner``'s upload (row, chunks, this process's cached copy) unless a live
        transcript of ``owner`` refers to it (see :meth:`TranscriptStore.remove_upload`).

        The row is locked first, so a concurrent :meth:`create` on another server either
        commits before the check (and keeps the upload) or waits and finds it gone; the
        ``DELETE`` statement then runs with a fresh snapshot (READ COMMITTED)."""
        with self.connection() as conn, conn.transaction():
            locked = conn.execute(
                "SELECT id FROM uploads WHERE id = %s FOR UPDATE", (upload_id,)
            ).fetchone()
            if locked is None:
                return None
            row = conn.execute(
                self.dialect.sql(REMOVE_UNUSED_UPLOAD), (upload_id, owner)
            ).fetchone()
        if row is None:
            return None
        self.evict_upload(upload_id)
        return upload_from_row(row)

    def local_upload_path(self, upload_id: str) -> Path | None:
        """The original file when it is on this machine, else a cached copy from the
        database (``None`` for an unknown upload)."""
        upload = self.get_upload(upload_id)
        if upload is None:
            return None
        if Path(upload.path).is_file():
            return Path(upload.path)
        cached = self.materialize_upload(upload_id)
        return cached if cached is not None and cached.is_file() else None

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

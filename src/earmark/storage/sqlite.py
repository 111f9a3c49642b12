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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from earmark.storage.base import JobRecord, UploadRecord, utc_now
from earmark.storage.migrations import migrate
from earmark.storage.sql import SQLITE, Row, SQLStore

__all__ = ["SQLiteStore"]


class SQLiteStore(SQLStore):
    """Transcript jobs and uploads in a SQLite database file."""

    dialect = SQLITE

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
            "request, webhook_secret, webhook_state, options) "
            "VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, NULL, ?)",
            (
                job.id,
                job.owner,
                job.created,
                job.audio_url,
                job.upload_id,
                json.dumps(job.request, ensure_ascii=False),
                job.webhook_secret,
                None if job.options is None else json.dumps(job.options, ensure_ascii=False),
            ),
        )
        return dataclasses.replace(job, status="queued", seq=int(cur.lastrowid or 0))

    def _rows(self, statement: str, args: Sequence[Any] = ()) -> list[Row]:
        rows = self._conn().execute(statement, tuple(args)).fetchall()
        return cast(list[Row], rows)  # sqlite3.Row reads by column name like a mapping

    def _change(self, statement: str, args: Sequence[Any] = ()) -> int:
        return self._conn().execute(statement, tuple(args)).rowcount

    def _encode_request(self, request: Mapping[str, Any]) -> Any:
        return json.dumps(request, ensure_ascii=False)

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

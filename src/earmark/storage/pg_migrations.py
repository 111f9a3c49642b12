"""Named, append-only schema migrations for the PostgreSQL store and the procrastinate queue.

Never edit or reorder a migration that has shipped: add a new one at the end. All pending
migrations of a set run in one transaction (PostgreSQL DDL is transactional) under an
advisory lock, so several servers and workers starting at once migrate exactly once.
Applied names are recorded in ``earmark_migrations`` in the configured schema.

Two sets exist: earmark's own tables (:data:`MIGRATIONS`, applied by the store) and
procrastinate's (applied by the queue, only when it is used): the first time, its
``schema.sql``; afterwards each migration file a newer procrastinate ships, in order.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from earmark.errors import InputError
from earmark.storage._ddl import POSTGRES_TYPES, shared_migrations

__all__ = ["MIGRATIONS", "check_schema_name", "migrate", "migrate_procrastinate"]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PROCRASTINATE_BASE = "procrastinate/schema.sql"

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_transcripts_and_uploads",
        """
        CREATE TABLE transcripts (
            seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id                  TEXT NOT NULL UNIQUE,
            owner               TEXT NOT NULL,
            status              TEXT NOT NULL,
            created             TEXT NOT NULL,
            completed           TEXT,
            audio_url           TEXT NOT NULL,
            upload_id           TEXT,
            request             JSON NOT NULL,
            webhook_secret      TEXT,
            error               TEXT,
            result              TEXT,
            attempts            INTEGER NOT NULL DEFAULT 0,
            webhook_state       TEXT,
            webhook_status_code INTEGER,
            webhook_attempts    INTEGER NOT NULL DEFAULT 0,
            deleted             BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE INDEX transcripts_owner_seq ON transcripts (owner, seq);
        CREATE INDEX transcripts_status ON transcripts (status);
        CREATE INDEX transcripts_webhook_pending ON transcripts (seq)
            WHERE webhook_state = 'pending';
        CREATE TABLE uploads (
            id      TEXT PRIMARY KEY,
            owner   TEXT NOT NULL,
            path    TEXT NOT NULL,
            size    BIGINT NOT NULL,
            created TEXT NOT NULL,
            in_db   BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE TABLE upload_chunks (
            upload_id TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
            n         INTEGER NOT NULL,
            data      BYTEA NOT NULL,
            PRIMARY KEY (upload_id, n)
        );
        -- media is compressed already: store chunks as they are, without TOAST compression
        ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
        """,
    ),
    *shared_migrations(
        POSTGRES_TYPES,
        """
        CREATE TABLE text_chunks (
            id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            transcript_id TEXT NOT NULL,
            owner         TEXT NOT NULL,
            start_ms      INTEGER NOT NULL,
            times         TEXT NOT NULL,
            text          TEXT NOT NULL,
            tsv           tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
        );
        CREATE INDEX text_chunks_tsv ON text_chunks USING GIN (tsv);
        CREATE INDEX text_chunks_transcript ON text_chunks (transcript_id);
        """,
    ),
)


def check_schema_name(name: str) -> str:
    """``name`` if it is a plain lower-case PostgreSQL identifier, else :class:`InputError`."""
    if not _SCHEMA_NAME.match(name):
        raise InputError(
            f"EARMARK_DATABASE_SCHEMA={name!r}: use lower-case letters, digits and '_' "
            "(at most 63, not starting with a digit)"
        )
    return name


def migrate(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """Create ``schema`` if needed and apply earmark's pending migrations; returns their names."""
    return _apply(conn, schema, list(MIGRATIONS))


def migrate_procrastinate(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """Install procrastinate's tables and functions in ``schema``, or upgrade them.

    A fresh schema gets the installed procrastinate's ``schema.sql``, and every migration
    file that ships with it is recorded as included; later, files a newer procrastinate
    adds are applied in name order (their version-prefixed names sort chronologically).
    """
    base = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    folder = Path(str(resources.files("procrastinate.sql") / "migrations"))
    files = sorted(p for p in folder.glob("*.sql"))
    with conn.transaction():
        _lock(conn, schema)
        done = _done(conn)
        applied: list[str] = []
        if _PROCRASTINATE_BASE not in done:
            conn.execute(base)  # trusted SQL from the package
            for name in [_PROCRASTINATE_BASE, *(f"procrastinate/{p.name}" for p in files)]:
                _record(conn, name)
            return [_PROCRASTINATE_BASE]
        for path in files:
            name = f"procrastinate/{path.name}"
            if name not in done:
                conn.execute(path.read_text(encoding="utf-8"))
                _record(conn, name)
                applied.append(name)
        return applied


def _apply(conn: psycopg.Connection[Any], schema: str, steps: list[tuple[str, str]]) -> list[str]:
    with conn.transaction():
        _lock(conn, schema)
        done = _done(conn)
        applied: list[str] = []
        for name, text in steps:
            if name in done:
                continue
            conn.execute(text)  # constant SQL from this module
            _record(conn, name)
            applied.append(name)
        return applied


def _lock(conn: psycopg.Connection[Any], schema: str) -> None:
    """Serialize migrations of ``schema`` across processes, then make sure it exists."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"earmark-migrate:{schema}",))
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(
        "CREATE TABLE IF NOT EXISTS earmark_migrations "
        "(name TEXT PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())"
    )


def _done(conn: psycopg.Connection[Any]) -> set[str]:
    with conn.cursor(row_factory=tuple_row) as cur:
        return {str(row[0]) for row in cur.execute("SELECT name FROM earmark_migrations")}


def _record(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute("INSERT INTO earmark_migrations (name) VALUES (%s)", (name,))

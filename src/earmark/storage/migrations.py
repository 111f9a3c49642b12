"""Named, append-only schema migrations for the SQLite store.

Never edit or reorder a migration that has shipped: add a new one at the end. Each runs
once, in its own transaction, and is recorded by name in ``_migrations``.
"""

from __future__ import annotations

import sqlite3

from earmark.storage._ddl import SQLITE_TYPES, shared_migrations
from earmark.storage.base import utc_now

__all__ = ["MIGRATIONS", "migrate"]

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_transcripts_and_uploads",
        """
        CREATE TABLE transcripts (
            seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
            id                  TEXT NOT NULL UNIQUE,
            owner               TEXT NOT NULL,
            status              TEXT NOT NULL,
            created             TEXT NOT NULL,
            completed           TEXT,
            audio_url           TEXT NOT NULL,
            upload_id           TEXT,
            request             TEXT NOT NULL,
            webhook_secret      TEXT,
            error               TEXT,
            result              TEXT,
            attempts            INTEGER NOT NULL DEFAULT 0,
            webhook_state       TEXT,
            webhook_status_code INTEGER,
            webhook_attempts    INTEGER NOT NULL DEFAULT 0,
            deleted             INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX transcripts_owner_seq ON transcripts (owner, seq);
        CREATE INDEX transcripts_status ON transcripts (status);
        CREATE INDEX transcripts_webhook_state ON transcripts (webhook_state);
        CREATE TABLE uploads (
            id      TEXT PRIMARY KEY,
            owner   TEXT NOT NULL,
            path    TEXT NOT NULL,
            size    INTEGER NOT NULL,
            created TEXT NOT NULL
        );
        """,
    ),
    *shared_migrations(
        SQLITE_TYPES,
        """
        CREATE VIRTUAL TABLE text_chunks USING fts5(
            text, transcript_id UNINDEXED, owner UNINDEXED, start_ms UNINDEXED, times UNINDEXED,
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
    ),
)


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the migrations this database has not seen yet; returns their names."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied: list[str] = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # executescript would commit; run statement by statement inside the transaction
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO _migrations (name, applied) VALUES (?, ?)", (name, utc_now()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]

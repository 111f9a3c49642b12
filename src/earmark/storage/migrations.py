"""Named, append-only schema migrations for the SQLite store.

Never edit or reorder a migration that has shipped: add a new one at the end. Each runs
once, in its own transaction, and is recorded by name in ``_migrations``.
"""

from __future__ import annotations

import sqlite3

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
    (
        "0002_upload_users",
        """
        CREATE INDEX transcripts_upload_id ON transcripts (upload_id)
            WHERE upload_id IS NOT NULL;
        CREATE INDEX uploads_created ON uploads (created);
        """,
    ),
    ("0003_job_options", "ALTER TABLE transcripts ADD COLUMN options TEXT"),
    (
        "0004_web_library",
        """
        CREATE TABLE web_sessions (
            token_hash TEXT PRIMARY KEY,
            owner      TEXT NOT NULL,
            csrf       TEXT NOT NULL,
            created    TEXT NOT NULL,
            expires    TEXT NOT NULL
        );
        CREATE TABLE tag_lists (
            owner   TEXT NOT NULL,
            name    TEXT NOT NULL,
            body    TEXT NOT NULL,
            created TEXT NOT NULL,
            updated TEXT NOT NULL,
            PRIMARY KEY (owner, name)
        );
        CREATE TABLE tag_corrections (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            owner         TEXT NOT NULL,
            transcript_id TEXT NOT NULL,
            start_ms      INTEGER,
            end_ms        INTEGER,
            text          TEXT NOT NULL,
            predicted     TEXT,
            wrong         TEXT,
            correct       TEXT,
            list_name     TEXT,
            created       TEXT NOT NULL
        );
        CREATE INDEX tag_corrections_owner ON tag_corrections (owner, transcript_id);
        CREATE TABLE tag_taught (
            correction_id INTEGER NOT NULL,
            list_name     TEXT NOT NULL,
            PRIMARY KEY (correction_id, list_name)
        );
        CREATE TABLE transcript_meta (
            owner         TEXT NOT NULL,
            transcript_id TEXT NOT NULL,
            key           TEXT NOT NULL,
            value         TEXT NOT NULL,
            PRIMARY KEY (owner, transcript_id, key)
        );
        CREATE TABLE retags (
            owner         TEXT NOT NULL,
            transcript_id TEXT NOT NULL,
            list_name     TEXT NOT NULL,
            outcome       TEXT NOT NULL,
            created       TEXT NOT NULL,
            PRIMARY KEY (owner, transcript_id)
        );
        CREATE TABLE text_index (
            transcript_id TEXT PRIMARY KEY,
            owner         TEXT NOT NULL,
            duration_ms   INTEGER NOT NULL,
            best_tag      TEXT,
            selected      TEXT NOT NULL,
            preview       TEXT NOT NULL,
            first_chunk   INTEGER NOT NULL,
            last_chunk    INTEGER NOT NULL,
            indexed       TEXT NOT NULL
        );
        CREATE INDEX text_index_owner ON text_index (owner);
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

"""The schema migrations written once for both stores, with a per-dialect type map.

Migrations 0002-0004 are the same statements in SQLite and PostgreSQL but for a few
type names (:data:`SQLITE_TYPES`, :data:`POSTGRES_TYPES`) and the full-text table of
0004 (FTS5 in SQLite, a ``tsvector`` column in PostgreSQL), which each store passes in.
:func:`shared_migrations` fills them in; the text it produces is exactly what shipped,
so never edit these statements: add a new migration at the end.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["POSTGRES_TYPES", "SQLITE_TYPES", "shared_migrations"]

SQLITE_TYPES: Mapping[str, str] = {
    "identity": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "bigint": "INTEGER",
    "json": "TEXT",
}
POSTGRES_TYPES: Mapping[str, str] = {
    "identity": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "bigint": "BIGINT",
    "json": "JSON",
}

_UPLOAD_USERS = """
        CREATE INDEX transcripts_upload_id ON transcripts (upload_id)
            WHERE upload_id IS NOT NULL;
        CREATE INDEX uploads_created ON uploads (created);
        """
_JOB_OPTIONS = "ALTER TABLE transcripts ADD COLUMN options {json}"
# 0004 up to its full-text table, which follows as each dialect writes it
_WEB_LIBRARY = """
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
            id            {identity},
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
            correction_id {bigint} NOT NULL,
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
            first_chunk   {bigint} NOT NULL,
            last_chunk    {bigint} NOT NULL,
            indexed       TEXT NOT NULL
        );
        CREATE INDEX text_index_owner ON text_index (owner);"""


def shared_migrations(types: Mapping[str, str], text_chunks: str) -> tuple[tuple[str, str], ...]:
    """Migrations 0002-0004 in one dialect: ``types`` fills in the type names and
    ``text_chunks`` (the full-text table's statements, from a newline on) ends 0004."""
    return (
        ("0002_upload_users", _UPLOAD_USERS),
        ("0003_job_options", _JOB_OPTIONS.format_map(types)),
        ("0004_web_library", _WEB_LIBRARY.format_map(types) + text_chunks),
    )

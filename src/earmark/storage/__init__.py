"""Storage of transcript jobs, uploads and API keys, behind :class:`TranscriptStore`.

``open_store(settings)`` picks the backend from ``EARMARK_DATABASE_URL``: unset means
SQLite in the data dir. A PostgreSQL backend implements the same interface.
"""

from __future__ import annotations

from pathlib import Path

from earmark.config import ServerSettings
from earmark.errors import InputError
from earmark.storage.base import (
    TERMINAL,
    JobRecord,
    JobResult,
    ListQuery,
    Page,
    TopicsOutcome,
    TranscriptStore,
    UploadRecord,
    utc_now,
)

__all__ = [
    "TERMINAL",
    "JobRecord",
    "JobResult",
    "ListQuery",
    "Page",
    "TopicsOutcome",
    "TranscriptStore",
    "UploadRecord",
    "is_postgres_url",
    "open_store",
    "utc_now",
]


def is_postgres_url(url: str | None) -> bool:
    """Whether ``url`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def open_store(settings: ServerSettings) -> TranscriptStore:
    """Open the configured store (SQLite at ``<data_dir>/earmark.db`` by default)."""
    url = settings.database_url
    if is_postgres_url(url):
        from earmark.storage.postgres import PostgresOptions, PostgresStore

        return PostgresStore(
            PostgresOptions(
                url=str(url),
                schema=settings.database_schema,
                cache_dir=settings.data_dir / "upload-cache",
            )
        )
    if url is None or url == "" or url.startswith("sqlite:"):
        from earmark.storage.sqlite import SQLiteStore

        path = url.removeprefix("sqlite:///") if url and url.startswith("sqlite:///") else None
        return SQLiteStore(settings.data_dir / "earmark.db" if path is None else Path(path))
    raise InputError(
        f"EARMARK_DATABASE_URL={url.split('@')[-1]!r}: use postgresql://user@host/dbname or "
        "sqlite:///path/to/earmark.db (or unset it to use <data_dir>/earmark.db)"
    )

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
    "open_store",
    "utc_now",
]


def open_store(settings: ServerSettings) -> TranscriptStore:
    """Open the configured store (SQLite at ``<data_dir>/earmark.db`` by default)."""
    url = settings.database_url
    if url is None or url == "" or url.startswith("sqlite:"):
        from earmark.storage.sqlite import SQLiteStore

        path = url.removeprefix("sqlite:///") if url and url.startswith("sqlite:///") else None
        return SQLiteStore(settings.data_dir / "earmark.db" if path is None else Path(path))
    raise InputError(
        f"EARMARK_DATABASE_URL={url.split('@')[-1]!r}: only SQLite is built in so far "
        "(unset it to use <data_dir>/earmark.db)"
    )

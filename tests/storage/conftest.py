"""Fixtures shared by the store tests that run once per backend (SQLite and PostgreSQL).

``store`` needs a module-scoped ``pg`` fixture ``(url, schema)`` in the module that uses
it (each module works in its own throwaway schema).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from earmark.storage import TranscriptStore
from earmark.storage.postgres import PostgresOptions, PostgresStore
from earmark.storage.sqlite import SQLiteStore


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TranscriptStore]:
    """Each store in turn (one per backend, shared by the module's tests)."""
    if request.param == "sqlite":
        opened: TranscriptStore = SQLiteStore(tmp_path_factory.mktemp("sqlite") / "earmark.db")
    else:
        url, schema = request.getfixturevalue("pg")
        opened = PostgresStore(
            PostgresOptions(url, schema=schema, cache_dir=tmp_path_factory.mktemp("cache"))
        )
    yield opened
    opened.close()


@pytest.fixture
def owner() -> str:
    """A fresh API-key owner per test, so tests sharing a store do not see each other."""
    return f"key-{uuid.uuid4().hex[:8]}"

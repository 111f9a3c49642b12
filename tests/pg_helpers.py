"""PostgreSQL plumbing shared by the tests that need a real database (127.0.0.1:5432)."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from psycopg import sql

SKIP_REASON = "PostgreSQL is not reachable on 127.0.0.1:5432 (database 'test', trust auth)"


def pg_url() -> str | None:
    """A reachable PostgreSQL URL (``EARMARK_TEST_DATABASE_URL`` or the local 'test' db)."""
    env = os.environ.get("EARMARK_TEST_DATABASE_URL")
    users = ("postgres", "root")
    candidates = [env] if env else [f"postgresql://{u}@127.0.0.1:5432/test" for u in users]
    for url in candidates:
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.OperationalError:
            continue
    return None


def require_pg() -> str:
    """The URL, or skip the test with a clear reason."""
    url = pg_url()
    if url is None:
        pytest.skip(SKIP_REASON)
    return url


def new_schema(prefix: str) -> str:
    """A fresh throwaway schema name."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

"""The TranscriptStore contract, one suite for both backends (SQLite and PostgreSQL).

Every test here runs once per store through the ``store`` fixture. For now it covers how
long uploads live (see :mod:`earmark.storage.sweep`): an upload lives while a live (not
deleted) transcript of its owner refers to it; deleting a transcript leaves the upload to
the others; unused uploads go after the TTL.

PostgreSQL: 127.0.0.1:5432, database ``test``, trust auth (``EARMARK_TEST_DATABASE_URL``
overrides); this module works in its own schema, dropped at the end.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pg_helpers import drop_schema, new_schema, require_pg

from earmark.storage import JobRecord, TranscriptStore, UploadRecord, utc_now
from earmark.storage.files import FileStore
from earmark.storage.postgres import PostgresOptions, PostgresStore
from earmark.storage.sweep import release_upload, sweep_interval, sweep_uploads

LONG_AGO = "2001-01-01T00:00:00.000000"


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, str]]:
    """(url, schema) of this module's throwaway schema."""
    url = require_pg()
    schema = new_schema("t_contract")
    yield url, schema
    drop_schema(url, schema)


# ``store`` (each backend in turn) and ``owner``: tests/storage/conftest.py


@pytest.fixture
def files(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "data")


def _upload(
    store: TranscriptStore, files: FileStore, owner: str, created: str | None = None
) -> UploadRecord:
    """An upload as the route makes it: a file in ``uploads/``, then indexed."""
    upload_id = FileStore.new_id()
    path = files.uploads / upload_id
    path.write_bytes(b"RIFF" + os.urandom(100))
    record = UploadRecord(upload_id, owner, str(path), 104, created or utc_now())
    store.add_upload(record)
    return record


def _job(owner: str, upload_id: str | None) -> JobRecord:
    url = f"http://127.0.0.1/v2/upload/{upload_id}"
    return JobRecord(
        id=str(uuid.uuid4()),
        owner=owner,
        status="queued",
        created=utc_now(),
        audio_url=url,
        request={"audio_url": url},
        upload_id=upload_id,
    )


def _finished(store: TranscriptStore, job: JobRecord, error: str = "x") -> None:
    assert store.claim(job.id) is not None
    assert store.finish(job.id, error=error)


def _has_bytes(store: TranscriptStore, upload: UploadRecord) -> bool:
    """Whether the store (or, for SQLite, the file it indexes) still holds the audio."""
    if isinstance(store, PostgresStore):
        with store.connection() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM upload_chunks WHERE upload_id = %s", (upload.id,)
            ).fetchone()
        return row is not None and int(row["n"]) > 0
    return Path(upload.path).is_file()


def test_upload_users_counts_live_transcripts_of_the_owner(
    store: TranscriptStore, files: FileStore, owner: str
) -> None:
    upload = _upload(store, files, owner)
    assert store.upload_users(upload.id, owner) == 0
    done = store.create(_job(owner, upload.id))
    queued = store.create(_job(owner, upload.id))
    store.create(_job("someone-else", upload.id))  # another key naming it: not a user
    store.create(_job(owner, None))
    _finished(store, done)
    assert store.upload_users(upload.id, owner) == 2  # completed/failed ones count too
    assert store.delete(done.id, owner) is not None
    assert store.upload_users(upload.id, owner) == 1
    assert store.upload_users(upload.id, "someone-else") == 1
    assert store.get(queued.id, owner) is not None


def test_deleting_one_transcript_keeps_the_upload_for_the_others(
    store: TranscriptStore, files: FileStore, owner: str
) -> None:
    """The defect: T1 completed, T2 queued on the same upload, delete T1 -> T2 lost it."""
    upload = _upload(store, files, owner)
    first = store.create(_job(owner, upload.id))
    second = store.create(_job(owner, upload.id))
    _finished(store, first)
    deleted = store.delete(first.id, owner)
    assert deleted is not None and deleted.upload_id == upload.id
    assert not release_upload(store, files, upload.id, owner)  # the second one still uses it
    assert store.get_upload(upload.id) is not None and _has_bytes(store, upload)
    _finished(store, second)  # ... and can run
    assert store.remove_upload(upload.id, owner) is None  # a finished one keeps it as well
    # the last user deleted: now it goes, bytes and file with it, exactly once
    assert store.delete(second.id, owner) is not None
    assert store.remove_upload(upload.id, "someone-else") is None  # never another key's
    assert release_upload(store, files, upload.id, owner)
    assert store.get_upload(upload.id) is None
    assert not _has_bytes(store, upload) and not Path(upload.path).exists()
    assert store.remove_upload(upload.id, owner) is None  # idempotent
    assert not release_upload(store, files, upload.id, owner)


def test_expired_uploads_are_old_and_unused(
    store: TranscriptStore, files: FileStore, owner: str
) -> None:
    never_used = _upload(store, files, owner, created=LONG_AGO)
    in_use = _upload(store, files, owner, created=LONG_AGO)
    users_deleted = _upload(store, files, owner, created="2001-01-01T00:00:01.000000")
    fresh = _upload(store, files, owner)
    store.create(_job(owner, in_use.id))
    gone = store.create(_job(owner, users_deleted.id))
    _finished(store, gone)
    store.delete(gone.id, owner)
    cutoff = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    expired = [u for u in store.expired_uploads(cutoff) if u.owner == owner]
    assert [u.id for u in expired] == [never_used.id, users_deleted.id]  # oldest first
    assert expired[0].size == 104 and expired[0].created == LONG_AGO
    assert fresh.id not in [u.id for u in store.expired_uploads(cutoff)]
    assert fresh.id in [u.id for u in store.expired_uploads("9999-01-01T00:00:00.000000")]
    assert in_use.id not in [u.id for u in store.expired_uploads("9999-01-01T00:00:00.000000")]


def test_sweep_removes_unused_uploads_older_than_the_ttl(
    store: TranscriptStore, files: FileStore, owner: str
) -> None:
    old_unused = _upload(store, files, owner, created=LONG_AGO)
    old_in_use = _upload(store, files, owner, created=LONG_AGO)
    fresh = _upload(store, files, owner)
    store.create(_job(owner, old_in_use.id))
    stray = files.uploads / FileStore.new_id()  # written, never indexed (a crash)
    stray.write_bytes(b"x")
    os.utime(stray, (time.time() - 7200, time.time() - 7200))
    assert sweep_uploads(store, files, 0) == []  # 0 disables
    removed = sweep_uploads(store, files, ttl_hours=1)
    assert old_unused.id in removed and stray.name in removed
    assert store.get_upload(old_unused.id) is None and not _has_bytes(store, old_unused)
    assert not Path(old_unused.path).exists() and not stray.exists()
    for kept in (old_in_use, fresh):
        assert store.get_upload(kept.id) is not None and _has_bytes(store, kept)
    assert old_unused.id not in sweep_uploads(store, files, ttl_hours=1)  # idempotent
    # a fractional TTL works too (an hour and a bit later, the fresh one is old enough)
    later = datetime.now(UTC) + timedelta(hours=1.5)
    assert fresh.id in sweep_uploads(store, files, ttl_hours=0.5, now=later)
    assert store.get_upload(old_in_use.id) is not None


def test_sweep_interval() -> None:
    assert sweep_interval(24) == 600
    assert sweep_interval(0.1) == 180
    assert sweep_interval(0.0001) == 1


# -- several servers on one PostgreSQL database ---------------------------------------


@pytest.mark.postgres
def test_two_servers_remove_an_upload_once(
    pg: tuple[str, str], files: FileStore, owner: str, tmp_path: Path
) -> None:
    url, schema = pg
    a = PostgresStore(PostgresOptions(url, schema=schema, cache_dir=tmp_path / "a"))
    b = PostgresStore(PostgresOptions(url, schema=schema, cache_dir=tmp_path / "b"))
    try:
        upload = _upload(a, files, owner, created=LONG_AGO)
        results: list[UploadRecord | None] = []
        threads = [
            threading.Thread(target=lambda s=s: results.append(s.remove_upload(upload.id, owner)))
            for s in (a, b, a, b)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r is not None for r in results) == 1
        assert a.get_upload(upload.id) is None and b.get_upload(upload.id) is None
    finally:
        a.close()
        b.close()


@pytest.mark.postgres
def test_remove_waits_for_a_transcript_being_created(
    pg: tuple[str, str], files: FileStore, owner: str, tmp_path: Path
) -> None:
    """A create on one server and a sweep on another at the same moment: the upload is kept
    (the sweep waits for the create's transaction and then sees the new user)."""
    url, schema = pg
    creating = PostgresStore(PostgresOptions(url, schema=schema, cache_dir=tmp_path / "a"))
    sweeping = PostgresStore(PostgresOptions(url, schema=schema, cache_dir=tmp_path / "b"))
    inside, go = threading.Event(), threading.Event()

    def hold(conn: psycopg.Connection[Any], job: JobRecord) -> None:
        inside.set()
        assert go.wait(10)

    creating.add_create_hook(hold)
    try:
        upload = _upload(creating, files, owner, created=LONG_AGO)
        creator = threading.Thread(target=creating.create, args=(_job(owner, upload.id),))
        creator.start()
        assert inside.wait(10)  # the transcript row is inserted, not yet committed
        outcome: list[UploadRecord | None] = []
        remover = threading.Thread(
            target=lambda: outcome.append(sweeping.remove_upload(upload.id, owner))
        )
        remover.start()
        remover.join(0.5)
        assert remover.is_alive() and not outcome  # blocked on the create's lock
        go.set()
        creator.join(10)
        remover.join(10)
        assert outcome == [None]
        assert sweeping.get_upload(upload.id) is not None and _has_bytes(sweeping, upload)
        assert sweeping.upload_users(upload.id, owner) == 1
    finally:
        go.set()
        creating.close()
        sweeping.close()

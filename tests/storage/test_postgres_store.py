"""The TranscriptStore contract, run against both stores (SQLite and PostgreSQL), plus what
only the PostgreSQL store does (uploads kept in the database, create hooks, migrations).

PostgreSQL: 127.0.0.1:5432, database ``test``, trust auth (``EARMARK_TEST_DATABASE_URL``
overrides). This module works in its own schema, dropped at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pg_helpers import drop_schema, new_schema, require_pg

from earmark.errors import InputError
from earmark.storage import (
    JobRecord,
    JobResult,
    ListQuery,
    TopicsOutcome,
    TranscriptStore,
    UploadRecord,
    utc_now,
)
from earmark.storage.postgres import PostgresOptions, PostgresStore
from earmark.types import Segment, TagResult, TagScore, Transcript, WindowTags, Word


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, str]]:
    """(url, schema) of this module's throwaway schema."""
    url = require_pg()
    schema = new_schema("t_store")
    yield url, schema
    drop_schema(url, schema)


# ``store`` (each backend in turn) and ``owner``: tests/storage/conftest.py


def _job(owner: str, **fields: Any) -> JobRecord:
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "owner": owner,
        "status": "queued",
        "created": utc_now(),
        "audio_url": "https://example.com/a.mp3",
        "request": {"audio_url": "https://example.com/a.mp3"},
    }
    values.update(fields)
    return JobRecord(**values)


def _result() -> JobResult:
    words = (Word("Ask", 0, 300, 0.9), Word("not…", 300, 700, 0.8))
    transcript = Transcript(
        text="Ask not…",
        segments=(Segment(0, 0, 700, "Ask not…", words, 0.85),),
        language="en",
        language_probability=0.99,
        duration_ms=11_000,
        model="tiny.en",
    )
    tags = TagResult(
        best_tag="Politics",
        tags=(TagScore("Politics", 0.8), TagScore("Sports", 0.1)),
        selected=("Politics",),
        segments=(WindowTags(0, 700, "Ask not…", (TagScore("Politics", 0.8),), ("Politics",)),),
        threshold=0.5,
        engine="embedding",
    )
    return JobResult(transcript, "tiny.en", custom_tags=TopicsOutcome(result=tags))


# -- the contract, for both stores ---------------------------------------------------


def test_create_get_and_owner_scoping(store: TranscriptStore, owner: str) -> None:
    request = {
        "audio_url": "https://x/ü.mp3",
        "zeta": 1,
        "alpha": {"b": [1, 2]},
        "speech_model": None,
    }
    job = store.create(_job(owner, request=request, webhook_secret="s3cret"))
    assert job.status == "queued" and job.seq > 0 and job.attempts == 0
    got = store.get(job.id)
    assert got == job
    assert got is not None and list(got.request) == list(request)  # key order kept
    assert store.get(job.id, owner) == job
    assert store.get(job.id, "someone-else") is None
    assert store.get("no-such-id") is None


def test_state_moves_are_compare_and_set(store: TranscriptStore, owner: str) -> None:
    job = store.create(_job(owner))
    claimed = store.claim(job.id)
    assert claimed is not None and claimed.status == "processing" and claimed.attempts == 1
    assert store.claim(job.id) is None  # claimed elsewhere
    assert store.fail_queued(job.id, "nope") is False  # not queued any more
    assert store.finish(job.id, result=_result()) is True
    assert store.finish(job.id, error="late duplicate") is False  # a second run stores nothing
    done = store.get(job.id)
    assert done is not None and done.status == "completed" and done.error is None
    assert done.result == _result() and done.completed is not None
    assert store.claim(job.id) is None
    with pytest.raises(ValueError):
        store.finish(job.id)


def test_concurrent_claims_have_one_winner(store: TranscriptStore, owner: str) -> None:
    job = store.create(_job(owner))
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def race() -> None:
        barrier.wait()
        wins.append(store.claim(job.id) is not None)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_errors_and_fail_queued(store: TranscriptStore, owner: str) -> None:
    failed = store.create(_job(owner))
    store.claim(failed.id)
    assert store.finish(failed.id, error="Transcoding error, bad file") is True
    got = store.get(failed.id)
    assert got is not None and got.status == "error" and got.error == "Transcoding error, bad file"
    queued = store.create(_job(owner))
    assert store.fail_queued(queued.id, "interrupted too often") is True
    assert store.fail_queued(queued.id, "again") is False
    got = store.get(queued.id)
    assert got is not None and got.status == "error" and got.result is None


def test_webhook_state(store: TranscriptStore, owner: str) -> None:
    hooked = store.create(_job(owner, request={"audio_url": "x", "webhook_url": "http://h/"}))
    plain = store.create(_job(owner))
    for job in (hooked, plain):
        store.claim(job.id)
        store.finish(job.id, result=_result())
    assert hooked.id in store.pending_webhooks() and plain.id not in store.pending_webhooks()
    assert store.get(plain.id).webhook_state is None  # type: ignore[union-attr]
    store.set_webhook(hooked.id, state="pending", status_code=503, attempts=1)
    assert hooked.id in store.pending_webhooks()
    store.set_webhook(hooked.id, state="delivered", status_code=200, attempts=2)
    got = store.get(hooked.id)
    assert got is not None and (got.webhook_state, got.webhook_status_code) == ("delivered", 200)
    assert got.webhook_attempts == 2 and hooked.id not in store.pending_webhooks()


def test_paging_newest_first(store: TranscriptStore, owner: str) -> None:
    jobs = [store.create(_job(owner)) for _ in range(5)]
    store.create(_job("another-owner"))
    first = store.list_page(owner, ListQuery(limit=2))
    assert [j.id for j in first.items] == [jobs[4].id, jobs[3].id]
    assert first.has_older and not first.has_newer
    assert first.items[0].result is None  # listings carry no transcript bodies
    older = store.list_page(owner, ListQuery(limit=2, before_id=jobs[3].id))
    assert [j.id for j in older.items] == [jobs[2].id, jobs[1].id]
    assert older.has_older and older.has_newer
    newer = store.list_page(owner, ListQuery(limit=2, after_id=jobs[0].id))
    assert [j.id for j in newer.items] == [jobs[2].id, jobs[1].id]
    last = store.list_page(owner, ListQuery(limit=10, before_id=jobs[1].id))
    assert [j.id for j in last.items] == [jobs[0].id] and not last.has_older
    store.claim(jobs[2].id)
    processing = store.list_page(owner, ListQuery(status="processing"))
    assert [j.id for j in processing.items] == [jobs[2].id]
    today = store.list_page(owner, ListQuery(limit=50, created_on=jobs[0].created[:10]))
    assert len(today.items) == 5
    assert store.list_page(owner, ListQuery(created_on="1999-01-01")).items == ()
    with pytest.raises(InputError):
        store.list_page(owner, ListQuery(before_id="not-a-transcript"))
    with pytest.raises(InputError):  # another key's transcript is not a valid cursor
        store.list_page("another-owner", ListQuery(before_id=jobs[0].id))


def test_delete_wipes_data(store: TranscriptStore, owner: str) -> None:
    request = {"audio_url": "x", "webhook_url": "http://h/", "custom_tags": "media", "prompt": "p"}
    job = store.create(_job(owner, request=request, webhook_secret="s"))
    store.claim(job.id)
    store.finish(job.id, result=_result())
    assert store.delete(job.id, "someone-else") is None
    deleted = store.delete(job.id, owner)
    assert deleted is not None and deleted.deleted and deleted.result is None
    assert deleted.audio_url == "http://deleted_by_user" and deleted.webhook_secret is None
    assert deleted.request["webhook_url"] == "http://deleted_by_user"
    assert "custom_tags" not in deleted.request and "prompt" not in deleted.request
    assert store.claim(job.id) is None and store.delete("no-such-id", owner) is None


def test_requeue_interrupted(store: TranscriptStore, owner: str) -> None:
    a, b = store.create(_job(owner)), store.create(_job(owner))
    store.claim(a.id)
    ids = store.requeue_interrupted()
    assert a.id in ids and b.id in ids and ids.index(a.id) < ids.index(b.id)
    got = store.get(a.id)
    assert got is not None and got.status == "queued" and got.attempts == 1
    for job_id in ids:  # leave nothing queued for the other tests' requeue checks
        store.fail_queued(job_id, "test cleanup")


def test_uploads_index(store: TranscriptStore, owner: str, tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(b"RIFF" + os.urandom(100))
    upload = UploadRecord(uuid.uuid4().hex, owner, str(path), 104, utc_now())
    store.add_upload(upload)
    got = store.get_upload(upload.id)
    assert got is not None
    assert (got.id, got.owner, got.size, got.created) == (upload.id, owner, 104, upload.created)
    assert store.get_upload(uuid.uuid4().hex) is None
    missing = UploadRecord(uuid.uuid4().hex, owner, str(tmp_path / "gone"), 5, utc_now())
    store.add_upload(missing)  # indexing never needs the file itself
    assert store.get_upload(missing.id) == missing


# -- PostgreSQL only -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_store(
    pg: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresStore]:
    url, schema = pg
    opened = PostgresStore(
        PostgresOptions(url, schema=schema, cache_dir=tmp_path_factory.mktemp("server-cache"))
    )
    yield opened
    opened.close()


@pytest.mark.postgres
def test_upload_reaches_a_worker_without_shared_disk(
    pg: tuple[str, str], pg_store: PostgresStore, owner: str, tmp_path: Path
) -> None:
    data = os.urandom(2 * (1 << 20) + 12_345)  # three chunks, the last one partial
    server_file = tmp_path / "server" / "uploads" / "f"
    server_file.parent.mkdir(parents=True)
    server_file.write_bytes(data)
    upload_id = uuid.uuid4().hex
    pg_store.add_upload(UploadRecord(upload_id, owner, str(server_file), len(data), utc_now()))
    assert not server_file.exists()  # moved into the database: no server disk holds it now
    worker_cache = tmp_path / "worker-cache"
    worker = PostgresStore(PostgresOptions(pg[0], schema=pg[1], cache_dir=worker_cache))
    try:
        mine = worker_cache / str(os.getpid()) / upload_id
        seen = worker.get_upload(upload_id)
        assert seen is not None and seen.path == str(mine)
        copied = worker.materialize_upload(upload_id)
        assert copied == mine and copied.read_bytes() == data
        assert [p.name for p in mine.parent.iterdir()] == [upload_id]  # no .part left
        worker.evict_upload(upload_id)
        assert not copied.exists()
        # once its last transcript is deleted, removing the upload drops the database's copy
        job = pg_store.create(_job(owner, upload_id=upload_id))
        pg_store.claim(job.id)
        pg_store.finish(job.id, error="x")
        pg_store.delete(job.id, owner)
        assert pg_store.remove_upload(upload_id, owner) is not None
        assert worker.materialize_upload(upload_id) is None
    finally:
        worker.close()


@pytest.mark.postgres
def test_cache_of_dead_processes_is_removed(pg: tuple[str, str], tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / dead.stdout.strip() / "0123abcd"
    stale.parent.mkdir()
    stale.write_bytes(b"left by a killed worker")
    live = tmp_path / str(os.getpid()) / "89abcdef"
    live.parent.mkdir()
    live.write_bytes(b"in use")
    PostgresStore(PostgresOptions(pg[0], schema=pg[1], cache_dir=tmp_path)).close()
    assert not stale.parent.exists() and live.exists()


@pytest.mark.postgres
def test_create_hook_shares_the_transaction(pg_store: PostgresStore, owner: str) -> None:
    seen: list[str] = []

    def hook(conn: psycopg.Connection[Any], job: JobRecord) -> None:
        row = conn.execute("SELECT status FROM transcripts WHERE id = %s", (job.id,)).fetchone()
        seen.append(row["status"] if row else "missing")
        if job.request.get("explode"):
            raise RuntimeError("enqueue failed")

    pg_store.add_create_hook(hook)
    try:
        ok = pg_store.create(_job(owner))
        bad = _job(owner, request={"audio_url": "x", "explode": True})
        with pytest.raises(RuntimeError):
            pg_store.create(bad)
    finally:
        pg_store._create_hooks.remove(hook)
    assert seen == ["queued", "queued"]  # the hook sees the uncommitted row
    assert pg_store.get(ok.id) is not None
    assert pg_store.get(bad.id) is None  # rolled back with the failed enqueue


@pytest.mark.postgres
def test_requeue_one_job(pg_store: PostgresStore, owner: str) -> None:
    job = pg_store.create(_job(owner))
    assert pg_store.requeue(job.id) is False  # queued, not processing
    pg_store.claim(job.id)
    assert pg_store.requeue(job.id) is True
    again = pg_store.claim(job.id)
    assert again is not None and again.attempts == 2


@pytest.mark.postgres
def test_migrations_are_recorded_once(pg: tuple[str, str], pg_store: PostgresStore) -> None:
    second = PostgresStore(PostgresOptions(pg[0], schema=pg[1]))
    second.close()
    with pg_store.connection() as conn:
        names = [r["name"] for r in conn.execute("SELECT name FROM earmark_migrations")]
    assert names.count("0001_transcripts_and_uploads") == 1


def test_bad_settings_are_clear() -> None:
    with pytest.raises(InputError, match="EARMARK_DATABASE_SCHEMA"):
        PostgresStore(PostgresOptions("postgresql://127.0.0.1:1/x", schema="Bad-Name"))
    with pytest.raises(
        InputError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1/x"
    ) as err:
        PostgresStore(PostgresOptions("postgresql://u:pw@127.0.0.1:1/x", connect_timeout_s=0.5))
    assert "pw" not in str(err.value)  # never the password

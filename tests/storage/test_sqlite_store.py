"""The SQLite TranscriptStore: states move by compare-and-set, owners are isolated, lists page."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from earmark.errors import InputError
from earmark.storage import JobRecord, JobResult, ListQuery, TopicsOutcome, UploadRecord, utc_now
from earmark.storage.codec import dump_result, load_result
from earmark.storage.migrations import MIGRATIONS
from earmark.storage.sqlite import SQLiteStore
from earmark.types import Segment, TagResult, TagScore, Transcript, WindowTags, Word


def _job(n: int, owner: str = "alice", **request: object) -> JobRecord:
    return JobRecord(
        id=f"job-{n}",
        owner=owner,
        status="queued",
        created=utc_now(),
        audio_url=f"https://example.com/{n}.mp3",
        request=dict(request),
    )


def _result() -> JobResult:
    words = (Word("Hello", 0, 400, 0.9), Word("world.", 450, 900, 0.8))
    t = Transcript(
        text="Hello world.",
        segments=(Segment(0, 0, 900, "Hello world.", words, 0.85),),
        language="en",
        language_probability=0.99,
        duration_ms=1000,
        model="tiny.en",
    )
    tags = TagResult(
        best_tag="Greeting",
        tags=(TagScore("Greeting", 0.9), TagScore("Sports", 0.1)),
        selected=("Greeting",),
        segments=(WindowTags(0, 900, "Hello world.", (TagScore("Greeting", 0.9),), ("Greeting",)),),
        threshold=0.5,
        engine="embedding",
        extra={"note": "kept", "bad": object()},
    )
    return JobResult(
        t, "tiny.en", custom_tags=TopicsOutcome(result=tags), iab=TopicsOutcome(error="x")
    )


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "earmark.db")
    yield s  # type: ignore[misc]
    s.close()


def test_codec_round_trip() -> None:
    result = _result()
    back = load_result(dump_result(result))
    assert back.transcript == result.transcript
    assert back.custom_tags is not None and back.custom_tags.result is not None
    assert back.custom_tags.result.extra == {"note": "kept"}  # unserialisable extras dropped
    assert back.custom_tags.result.segments == result.custom_tags.result.segments  # type: ignore[union-attr]
    assert back.iab == TopicsOutcome(error="x")


def test_migrations_are_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    SQLiteStore(path).close()
    SQLiteStore(path).close()  # reopening applies nothing twice
    names = [r[0] for r in sqlite3.connect(path).execute("SELECT name FROM _migrations")]
    assert names == [name for name, _ in MIGRATIONS]
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_claim_and_finish_are_compare_and_set(store: SQLiteStore) -> None:
    store.create(_job(1, webhook_url="http://hook"))
    claimed = store.claim("job-1")
    assert claimed is not None and claimed.status == "processing" and claimed.attempts == 1
    assert store.claim("job-1") is None  # already taken
    assert store.finish("job-1", result=_result())
    assert not store.finish("job-1", error="again")  # stored once
    done = store.get("job-1")
    assert done is not None and done.status == "completed" and done.error is None
    assert done.text == "Hello world." and done.webhook_state == "pending"
    assert store.pending_webhooks() == ["job-1"]
    store.set_webhook("job-1", state="delivered", status_code=200, attempts=1)
    assert store.pending_webhooks() == []
    with pytest.raises(ValueError):
        store.finish("job-1")


def test_concurrent_claims_give_the_job_to_one(store: SQLiteStore) -> None:
    store.create(_job(1))
    wins: list[object] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        wins.append(store.claim("job-1"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(w is not None for w in wins) == 1


def test_requeue_interrupted(store: SQLiteStore) -> None:
    for n in range(3):
        store.create(_job(n))
    store.claim("job-0")
    store.finish("job-0", error="boom")
    store.claim("job-1")  # left processing by a "dead" process
    assert store.requeue_interrupted() == ["job-1", "job-2"]
    job = store.get("job-1")
    assert job is not None and job.status == "queued" and job.attempts == 1
    assert store.fail_queued("job-2", "gave up")
    assert store.get("job-2").status == "error"  # type: ignore[union-attr]


def test_owners_are_isolated(store: SQLiteStore) -> None:
    store.create(_job(1, owner="alice"))
    assert store.get("job-1", "bob") is None
    assert store.get("job-1", "alice") is not None
    assert store.list_page("bob", ListQuery()).items == ()
    assert store.delete("job-1", "bob") is None


def test_list_pages_both_ways(store: SQLiteStore) -> None:
    for n in range(5):
        store.create(_job(n))
    page = store.list_page("alice", ListQuery(limit=2))
    assert [j.id for j in page.items] == ["job-4", "job-3"]
    assert page.has_older and not page.has_newer
    older = store.list_page("alice", ListQuery(limit=2, before_id="job-3"))
    assert [j.id for j in older.items] == ["job-2", "job-1"]
    assert older.has_older and older.has_newer
    newer = store.list_page("alice", ListQuery(limit=2, after_id="job-1"))
    assert [j.id for j in newer.items] == ["job-3", "job-2"]  # the page next to job-1
    store.claim("job-2")
    store.finish("job-2", error="x")
    errors = store.list_page("alice", ListQuery(status="error"))
    assert [j.id for j in errors.items] == ["job-2"]
    today = utc_now()[:10]
    assert len(store.list_page("alice", ListQuery(created_on=today, limit=10)).items) == 5
    assert store.list_page("alice", ListQuery(created_on="1999-01-01")).items == ()
    with pytest.raises(InputError, match="not found"):
        store.list_page("alice", ListQuery(before_id="nope"))


def test_delete_wipes_data(store: SQLiteStore) -> None:
    store.create(_job(1, webhook_url="http://hook", custom_tags="media", punctuate=False))
    store.claim("job-1")
    store.finish("job-1", result=_result())
    deleted = store.delete("job-1", "alice")
    assert deleted is not None and deleted.deleted
    assert deleted.result is None and deleted.audio_url == "http://deleted_by_user"
    assert deleted.request["webhook_url"] == "http://deleted_by_user"
    assert "custom_tags" not in deleted.request and deleted.request["punctuate"] is False
    row = sqlite3.connect(store.path).execute("SELECT result FROM transcripts").fetchone()
    assert row == (None,)


def test_uploads(store: SQLiteStore) -> None:
    store.add_upload(UploadRecord("u1", "alice", "/data/uploads/u1", 10, utc_now()))
    upload = store.get_upload("u1")
    assert upload is not None and upload.owner == "alice" and upload.size == 10
    assert store.get_upload("u2") is None

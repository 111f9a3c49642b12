"""The library's text index and search on both stores: completed transcripts are indexed
on the first listing or search, words are highlighted and timed, owners never see each
other's passages, and deleted transcripts leave the index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_helpers import drop_schema, new_schema, require_pg

from earmark.storage import JobRecord, JobResult, TopicsOutcome, TranscriptStore, utc_now
from earmark.storage.library import library_of
from earmark.storage.search import query_terms
from earmark.types import Segment, TagResult, TagScore, Transcript, Word

TEXT = "The striker scored twice. Café owners protested the new tax on coffee beans today."


def transcript(text: str = TEXT) -> Transcript:
    words = tuple(Word(w, 1000 * i, 1000 * i + 800, 0.9) for i, w in enumerate(text.split()))
    return Transcript(
        text=text,
        segments=(Segment(0, 0, words[-1].end_ms, text, words, 0.9),),
        language="en",
        language_probability=1.0,
        duration_ms=words[-1].end_ms,
    )


def finished(store: TranscriptStore, owner: str, job_id: str, text: str = TEXT) -> None:
    store.create(
        JobRecord(id=job_id, owner=owner, status="queued", created=utc_now(), audio_url="x")
    )
    assert store.claim(job_id) is not None
    tags = TagResult("Business", (TagScore("Business", 0.8),), ("Business",), (), 0.5, "embedding")
    result = JobResult(transcript(text), "fake", custom_tags=TopicsOutcome(result=tags))
    assert store.finish(job_id, result=result)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TranscriptStore]:
    if request.param == "sqlite":
        from earmark.storage.sqlite import SQLiteStore

        s: TranscriptStore = SQLiteStore(tmp_path / "earmark.db")
        yield s
        s.close()
        return
    url = require_pg()
    from earmark.storage.postgres import PostgresOptions, PostgresStore

    schema = new_schema("web")
    s = PostgresStore(PostgresOptions(url=url, schema=schema, cache_dir=tmp_path / "cache"))
    try:
        yield s
    finally:
        s.close()
        drop_schema(url, schema)


def test_query_terms() -> None:
    assert query_terms('Café  "coffee" -beans; DROP TABLE') == [
        "cafe",
        "coffee",
        "beans",
        "drop",
        "table",
    ]
    assert query_terms("  ") == []


def test_search_both_stores(store: TranscriptStore) -> None:
    lib = library_of(store)
    finished(store, "alice", "t1")
    finished(store, "bob", "t2", "Coffee prices rose again this week in every market.")
    hits = lib.search("alice", "coffee cafe")
    assert [h.transcript_id for h in hits] == ["t1"]
    marked = [(tok, ms) for tok, ms, hit in hits[0].tokens if hit]
    assert marked == [("Café", 4000), ("coffee", 11000)]
    assert hits[0].first_match_ms == 4000
    assert lib.search("alice", "striker zebra") == []  # every word must be there
    assert [h.transcript_id for h in lib.search("bob", "coffee")] == ["t2"]
    assert lib.search("alice", "'; DROP TABLE transcripts; --") == []
    rows = lib.listing("alice")
    assert [(r.id, r.best_tag, r.selected, r.duration_ms) for r in rows] == [
        ("t1", "Business", ("Business",), 13800)
    ]
    assert [r.id for r in lib.listing("alice", tag="Business")] == ["t1"]
    assert lib.listing("alice", tag="Sports") == []
    assert lib.listing("alice", status="error") == []
    store.delete("t1", "alice")
    assert lib.search("alice", "coffee") == []
    assert lib.listing("alice") == []
    assert [h.transcript_id for h in lib.search("bob", "coffee")] == ["t2"]


def test_saved_lists_and_sessions(store: TranscriptStore) -> None:
    from earmark.errors import InputError
    from earmark.storage.library import saved_lists

    lib = library_of(store)
    lib.save_list("alice", "Desk", "Politics: Laws and votes.\n")
    assert saved_lists(store, "alice")("Desk") is not None
    assert saved_lists(store, "bob")("Desk") is None
    with pytest.raises(InputError):
        lib.save_list("alice", "media", "A: b")
    token, session = lib.new_session("alice")
    assert lib.session(token) == session
    lib.end_session(token)
    assert lib.session(token) is None

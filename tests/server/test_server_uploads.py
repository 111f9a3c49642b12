"""How long uploads live, end to end on a real server (SQLite and PostgreSQL).

The rule (:mod:`earmark.storage.sweep`): an upload lives while any live (not deleted)
transcript of its key refers to it; ``DELETE`` of a transcript removes the upload only when
it was the last one; an upload no transcript uses goes after ``EARMARK_UPLOAD_TTL_HOURS``.

Each backend gets one server (tiny.en, one worker) with a TTL of a few seconds. A gate job
(its audio_url answers only when the test says so) keeps the one worker busy, so the second
transcript is surely still queued when the first is deleted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, LocalHTTP, make_settings, start_server
from pg_helpers import drop_schema, new_schema, require_pg
from polling import wait_until

from earmark.storage.postgres import PostgresStore

pytestmark = pytest.mark.slow

JFK_WORDS = "ask not what your country can do for you"
TTL_HOURS = 0.001  # 3.6 s: unused uploads are swept every 1.8 s


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per backend, stopped (and its PostgreSQL schema dropped) at the end."""
    extra: dict[str, Any] = {"upload_ttl_hours": TTL_HOURS}
    url = schema = None
    if request.param == "postgres":
        url, schema = require_pg(), new_schema("t_uploads")
        extra |= {"database_url": url, "database_schema": schema}
    live = start_server(make_settings(tmp_path_factory.mktemp("earmark-uploads"), **extra))
    try:
        yield live
    finally:
        live.stop()
        if url is not None and schema is not None:
            drop_schema(url, schema)


@pytest.fixture
def gate(local_http: LocalHTTP, jfk_flac: Path) -> Iterator[tuple[str, threading.Event]]:
    """An audio URL that answers (the JFK clip) once the event is set (or after 4 s)."""
    opened = threading.Event()
    data = jfk_flac.read_bytes()

    def answer(handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        opened.wait(4)  # under the server's 5 s download timeout
        return 200, {"Content-Type": "audio/flac"}, data

    local_http.routes[("GET", "/gate.flac")] = answer
    yield f"{local_http.url}/gate.flac", opened
    opened.set()


def _upload_id(upload_url: str) -> str:
    return upload_url.rsplit("/", 1)[-1]


def _kept(live: LiveServer, upload_id: str) -> bool:
    """Whether the server still has the upload's audio (index and bytes)."""
    store = live.services.store
    if store.get_upload(upload_id) is None:
        return False
    if isinstance(store, PostgresStore):
        with store.connection() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM upload_chunks WHERE upload_id = %s", (upload_id,)
            ).fetchone()
        return row is not None and int(row["n"]) > 0
    return (live.services.files.uploads / upload_id).is_file()


def _gone(live: LiveServer, upload_id: str) -> bool:
    """Nothing of the upload is left: no index row, no bytes, no file in the data dir."""
    store = live.services.store
    if store.get_upload(upload_id) is not None:
        return False
    if isinstance(store, PostgresStore):
        with store.connection() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM upload_chunks WHERE upload_id = %s", (upload_id,)
            ).fetchone()
        if row is None or int(row["n"]) != 0:
            return False
    data_dir = live.services.settings.server.data_dir
    return not [p for p in data_dir.rglob(f"{upload_id}*") if p.is_file()]


def _create(c: httpx.Client, audio_url: str) -> str:
    r = c.post("/v2/transcript", json={"audio_url": audio_url, "speech_model": "universal-2"})
    assert r.status_code == 200, r.text
    transcript_id: str = r.json()["id"]
    return transcript_id


def test_deleting_one_transcript_keeps_the_upload_for_another(
    server: LiveServer, gate: tuple[str, threading.Event], jfk_flac: Path
) -> None:
    gate_url, opened = gate
    with server.client() as c:
        upload_url = c.post("/v2/upload", content=jfk_flac.read_bytes()).json()["upload_url"]
        upload_id = _upload_id(upload_url)
        first = _create(c, upload_url)
        assert server.wait(first)["status"] == "completed"
        # the one worker waits on the gate; the re-run on the same upload queues behind it
        blocker = _create(c, gate_url)
        wait_until(
            "the gate job to leave the queue",
            lambda: c.get(f"/v2/transcript/{blocker}").json()["status"] != "queued",
            timeout=30,
        )
        second = _create(c, upload_url)
        assert c.get(f"/v2/transcript/{second}").json()["status"] == "queued"
        r = c.delete(f"/v2/transcript/{first}")
        assert r.status_code == 200, r.text
        assert r.json()["audio_url"] == "http://deleted_by_user"
        assert _kept(server, upload_id)  # the queued one still needs it
        opened.set()
        body = server.wait(second)
        assert body["status"] == "completed", body
        assert JFK_WORDS in body["text"].lower()
        assert server.wait(blocker)["status"] == "completed"
        # a completed transcript keeps the audio too, until it is deleted itself
        time.sleep(TTL_HOURS * 3600 * 1.5)  # past the TTL and at least one sweep
        assert _kept(server, upload_id)
        assert c.delete(f"/v2/transcript/{second}").status_code == 200
        # the last user is gone: so is the upload, at once (PostgreSQL: chunks and cache)
        wait_until("the upload to be removed", lambda: _gone(server, upload_id), timeout=10)
        # and a new transcript on it fails clearly instead of transcribing nothing
        third = server.wait(_create(c, upload_url))
        assert third["status"] == "error" and "no such upload" in third["error"]


def test_unused_uploads_are_swept_after_the_ttl(server: LiveServer, jfk_flac: Path) -> None:
    audio = jfk_flac.read_bytes()
    with server.client() as c:
        used_url = c.post("/v2/upload", content=audio).json()["upload_url"]
        used = _create(c, used_url)
        unused_url = c.post("/v2/upload", content=audio).json()["upload_url"]
        unused_id, used_id = _upload_id(unused_url), _upload_id(used_url)
        assert _kept(server, unused_id)
        # swept within the TTL (3.6 s) plus one sweep interval (1.8 s)
        wait_until("the unused upload to be swept", lambda: _gone(server, unused_id), timeout=30)
        # the used one is older still, and was looked at by that sweep: kept
        assert _kept(server, used_id)
        body = server.wait(used)
        assert body["status"] == "completed" and JFK_WORDS in body["text"].lower()
        time.sleep(TTL_HOURS * 3600)  # another sweep: a completed transcript keeps it
        assert _kept(server, used_id)
        assert c.delete(f"/v2/transcript/{used}").status_code == 200
        wait_until("the upload to be removed", lambda: _gone(server, used_id), timeout=10)

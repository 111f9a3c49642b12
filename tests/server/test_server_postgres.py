"""Scale-out end to end: two ``earmark serve`` processes that only take requests and one
``earmark worker`` process, all configured by environment variables alone, sharing a
PostgreSQL schema. Each has its own data dir, so the upload reaches the worker through the
database, not a shared disk. Driven by the official assemblyai SDK and plain httpx.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import assemblyai as aai
import httpx
import pytest
from conftest import KEY, MODEL_MAP, LocalHTTP
from pg_helpers import drop_schema, new_schema, require_pg
from polling import healthy, wait_transcript, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

JFK_WORDS = "ask not what your country can do for you"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _earmark() -> list[str]:
    script = shutil.which("earmark", path=str(Path(sys.executable).parent))
    return (
        [script] if script else [sys.executable, "-c", "from earmark.cli.main import main; main()"]
    )


class Proc:
    """A subprocess with its output in a log file, stopped with SIGTERM."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.log_path.name} exited: {self.log_path.read_text()}")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, local_http: LocalHTTP
) -> Iterator[dict[str, Any]]:
    """Two servers (``EARMARK_RUN_WORKERS=false``) and one worker on one schema."""
    url = require_pg()
    schema = new_schema("t_server")
    root = tmp_path_factory.mktemp("scale-out")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "EARMARK_DATABASE_URL": url,
        "EARMARK_DATABASE_SCHEMA": schema,
        "EARMARK_RUN_WORKERS": "false",
        "EARMARK_STALLED_AFTER_S": "3",
        "EARMARK_API_KEYS": KEY,
        "EARMARK_ASR_MODEL": "tiny.en",
        "EARMARK_ASR_BEAM_SIZE": "1",
        "EARMARK_SPEECH_MODEL_MAP": MODEL_MAP,
        "EARMARK_ALLOW_PRIVATE_URLS": "1",
        "EARMARK_WEBHOOK_BACKOFF_S": "0.05",
    }
    procs: list[Proc] = []
    servers: list[str] = []
    try:
        for name in ("server-a", "server-b"):
            port = _free_port()
            args = ["serve", "--port", str(port), "--data-dir", str(root / name)]
            procs.append(Proc([*_earmark(), *args], env, root / f"{name}.log"))
            servers.append(f"http://127.0.0.1:{port}")
        worker_dir = root / "worker"
        args = ["worker", "--concurrency", "1", "--data-dir", str(worker_dir)]
        worker = Proc([*_earmark(), *args], env, root / "worker.log")
        procs.append(worker)
        for server in servers:
            _wait_healthy(server, procs)
        local_http.routes[("POST", "/hook")] = lambda h, b: (200, {}, b"ok")
        yield {"servers": servers, "worker": worker, "worker_dir": worker_dir, "root": root}
        assert worker.stop() == 0, worker.log_path.read_text()  # SIGTERM: a clean exit
    finally:
        for proc in procs:
            proc.stop()
        drop_schema(url, schema)


def _wait_healthy(server: str, procs: list[Proc]) -> None:
    def up() -> bool:
        if healthy(server):
            return True
        for proc in procs:
            proc.check_alive()
        return False

    wait_until(f"{server} start", up, timeout=60)


def _norm(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c == " ").split())


def test_sdk_transcribes_through_a_separate_worker(
    cluster: dict[str, Any], local_http: LocalHTTP, jfk_flac: Path
) -> None:
    server_a = cluster["servers"][0]
    saved = (aai.settings.base_url, aai.settings.api_key, aai.settings.polling_interval)
    aai.settings.base_url, aai.settings.api_key, aai.settings.polling_interval = (
        server_a,
        KEY,
        0.1,
    )
    try:
        config = aai.TranscriptionConfig(
            speech_models=["universal-3-pro"], webhook_url=f"{local_http.url}/hook"
        )
        transcript = aai.Transcriber().transcribe(str(jfk_flac), config)
    finally:
        aai.settings.base_url, aai.settings.api_key, aai.settings.polling_interval = saved
    assert transcript.status == aai.TranscriptStatus.completed, transcript.error
    assert JFK_WORDS in _norm(transcript.text or "")
    assert (transcript.json_response or {})["speech_model_used"] == "tiny.en"
    # the worker read the upload from the database and removed its cached copy
    assert not [p for p in (cluster["worker_dir"] / "upload-cache").rglob("*") if p.is_file()]
    # and no server keeps it on disk: the database is its one home
    assert not [p for p in cluster["root"].glob("server-*/uploads/*") if p.is_file()]
    # the webhook goes out once, from the worker, through the queue
    with httpx.Client(base_url=server_a, headers={"authorization": KEY}) as c:
        body: dict[str, Any] = wait_until(
            f"webhook status of {transcript.id}",
            lambda: c.get(f"/v2/transcript/{transcript.id}").json(),
            timeout=30,
            until=lambda b: b.get("webhook_status_code") is not None,
        )
    assert body["webhook_status_code"] == 200
    posts = [p for p in local_http.posts("/hook") if p["transcript_id"] == transcript.id]
    assert posts == [{"transcript_id": transcript.id, "status": "completed"}]


def test_upload_on_one_server_create_on_another(cluster: dict[str, Any], jfk_flac: Path) -> None:
    server_a, server_b = cluster["servers"]
    headers = {"authorization": KEY}
    with (
        httpx.Client(base_url=server_a, headers=headers, timeout=30) as a,
        httpx.Client(base_url=server_b, headers=headers, timeout=30) as b,
    ):
        upload_url = a.post("/v2/upload", content=jfk_flac.read_bytes()).json()["upload_url"]
        created = b.post("/v2/transcript", json={"audio_url": upload_url, "punctuate": False})
        assert created.status_code == 200, created.text
        transcript_id = created.json()["id"]
        body = wait_transcript(b, transcript_id, timeout=60, alive=cluster["worker"].check_alive)
        assert body["status"] == "completed", body
        assert JFK_WORDS in body["text"].lower() and "," not in body["text"]
        # both servers see the same database: A lists what B created
        listed = a.get("/v2/transcript", params={"limit": 5}).json()["transcripts"]
        assert transcript_id in [t["id"] for t in listed]
        assert a.get("/health").json()["queued"] == 0

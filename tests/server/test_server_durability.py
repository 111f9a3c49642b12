"""Durability: SIGKILL a real ``earmark serve`` with jobs queued and processing; after a
restart every accepted job completes, once, and each webhook is delivered once."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import KEY, LocalHTTP
from polling import healthy, wait_until


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _command() -> list[str]:
    script = shutil.which("earmark", path=str(Path(sys.executable).parent))
    if script:
        return [script]
    return [sys.executable, "-c", "from earmark.cli.main import main; main()"]


class Serve:
    """``earmark serve`` as a subprocess on 127.0.0.1."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "EARMARK_API_KEYS": KEY,
            "EARMARK_ASR_MODEL": "tiny.en",
            "EARMARK_ASR_BEAM_SIZE": "1",
            "EARMARK_ALLOW_PRIVATE_URLS": "1",
            "EARMARK_WEBHOOK_BACKOFF_S": "0.05",
        }
        self.log = open(data_dir / "serve.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                *_command(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--data-dir",
                str(data_dir),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            if healthy(self.url):
                return True
            if self.proc.poll() is not None:
                raise RuntimeError("earmark serve exited")
            return False

        try:
            wait_until("earmark serve start", up, timeout=60)
        except (AssertionError, RuntimeError) as err:
            self.stop()
            raise RuntimeError(
                f"earmark serve did not start: {(data_dir / 'serve.log').read_text()}"
            ) from err

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"authorization": KEY}, timeout=30)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def _statuses(c: httpx.Client, ids: list[str]) -> list[dict[str, Any]]:
    return [c.get(f"/v2/transcript/{i}").json() for i in ids]


def test_sigkill_then_restart_completes_every_job_once(
    data_dir: Path, local_http: LocalHTTP, jfk_flac: Path
) -> None:
    local_http.routes[("POST", "/durable-hook")] = lambda h, b: (200, {}, b"ok")
    # one job's audio comes from a URL that answers only when released: that job is certain
    # to be `processing` (downloading) when the server is killed
    release = threading.Event()
    audio = jfk_flac.read_bytes()

    def held(_: object, __: bytes) -> tuple[int, dict[str, str], bytes]:
        release.wait(60)
        return 200, {"Content-Type": "audio/flac"}, audio

    local_http.routes[("GET", "/held.flac")] = held
    port = _free_port()
    first = Serve(data_dir, port)
    try:
        with first.client() as c:
            upload = c.post("/v2/upload", content=audio).json()["upload_url"]
            sources = [upload, f"{local_http.url}/held.flac", upload, upload]
            ids = []
            for src in sources:
                body = {"audio_url": src, "webhook_url": f"{local_http.url}/durable-hook"}
                r = c.post("/v2/transcript", json=body)
                assert r.status_code == 200
                ids.append(r.json()["id"])
            # wait until job 1 is done and its webhook recorded, job 2 is stuck downloading
            states = wait_until(
                "job 1 done with its webhook, job 2 downloading",
                lambda: _statuses(c, ids),
                timeout=60,
                interval=0.02,
                until=lambda s: (
                    s[0]["webhook_status_code"] == 200 and s[1]["status"] == "processing"
                ),
            )
        first.kill()
    finally:
        first.stop()
    assert [s["status"] for s in states] == ["completed", "processing", "queued", "queued"]

    release.set()
    second = Serve(data_dir, port)
    try:
        with second.client() as c:
            states = wait_until(
                "every job completed with its webhook after the restart",
                lambda: _statuses(c, ids),
                timeout=120,
                until=lambda states: all(
                    s["status"] == "completed" and s["webhook_status_code"] for s in states
                ),
            )
    finally:
        second.stop()
    for s in states:
        assert "ask not what your country" in s["text"].lower()
    deliveries = Counter(p["transcript_id"] for p in local_http.posts("/durable-hook"))
    assert deliveries == Counter({i: 1 for i in ids})

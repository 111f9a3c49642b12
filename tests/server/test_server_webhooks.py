"""Webhooks: retried on 5xx and timeouts, stopped by 4xx, delivered once, state recorded."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, LocalHTTP
from polling import wait_until

from earmark.storage import JobRecord


@pytest.fixture(scope="module")
def server(launch: object) -> LiveServer:
    return launch(webhook_timeout_s=2.0)  # type: ignore[operator, no-any-return]


@pytest.fixture(scope="module")
def audio_url(server: LiveServer, jfk_flac: Path) -> str:
    with server.client() as c:
        url: str = c.post("/v2/upload", content=jfk_flac.read_bytes()).json()["upload_url"]
    return url


def _scripted(answers: list[int], delay_first_s: float = 0.0) -> Any:
    """A handler answering with ``answers`` in turn (the last one repeats)."""
    lock = threading.Lock()
    calls = [0]

    def handler(_: object, __: bytes) -> tuple[int, dict[str, str], bytes]:
        with lock:
            n = calls[0]
            calls[0] += 1
        if n == 0 and delay_first_s:
            time.sleep(delay_first_s)
        return answers[min(n, len(answers) - 1)], {}, b"{}"

    return handler


def _settled(server: LiveServer, transcript_id: str, timeout: float = 60.0) -> JobRecord:
    """Wait until the webhook is delivered or has failed for good."""

    def settled() -> JobRecord | None:
        job = server.services.store.get(transcript_id)
        if job is not None and job.webhook_state in ("delivered", "failed"):
            return job
        return None

    return wait_until(f"webhook of {transcript_id}", settled, timeout, interval=0.02)


def _create(server: LiveServer, body: dict[str, object]) -> str:
    with server.client() as c:
        r = c.post("/v2/transcript", json=body)
    assert r.status_code == 200, r.text
    transcript_id: str = r.json()["id"]
    return transcript_id


def test_retries_until_success_with_auth_header(
    server: LiveServer, local_http: LocalHTTP, audio_url: str
) -> None:
    local_http.routes[("POST", "/hook/flaky")] = _scripted([500, 503, 200])
    hook = f"{local_http.url}/hook/flaky?source=test"  # query parameters are kept
    transcript_id = _create(
        server,
        {
            "audio_url": audio_url,
            "webhook_url": hook,
            "webhook_auth_header_name": "X-Earmark-Secret",
            "webhook_auth_header_value": "s3cret-value",
        },
    )
    job = _settled(server, transcript_id)
    assert job.webhook_state == "delivered" and job.webhook_attempts == 3
    calls = [r for r in local_http.requests if r[1] == "/hook/flaky?source=test"]
    assert len(calls) == 3
    for _, _, headers, _ in calls:
        assert headers["X-Earmark-Secret"] == "s3cret-value"
    assert (
        local_http.posts("/hook/flaky")
        == [{"transcript_id": transcript_id, "status": "completed"}] * 3
    )

    body = server.wait(transcript_id)
    assert body["webhook_status_code"] == 200
    assert body["webhook_auth"] is True
    assert body["webhook_auth_header_name"] == "X-Earmark-Secret"
    assert body["webhook_url"] == hook
    assert "s3cret-value" not in str(body)

    # at-least-once queues may run the job or the delivery again: nothing is sent twice
    server.services.pipeline.run(transcript_id)
    server.services.webhooks.deliver(transcript_id)
    assert len([r for r in local_http.requests if r[1].startswith("/hook/flaky")]) == 3


def test_client_error_stops_retries(
    server: LiveServer, local_http: LocalHTTP, audio_url: str
) -> None:
    local_http.routes[("POST", "/hook/gone")] = _scripted([410, 200])
    transcript_id = _create(
        server, {"audio_url": audio_url, "webhook_url": f"{local_http.url}/hook/gone"}
    )
    job = _settled(server, transcript_id)
    assert job.webhook_state == "failed"
    assert job.webhook_status_code == 410 and job.webhook_attempts == 1
    assert len(local_http.posts("/hook/gone")) == 1
    assert server.wait(transcript_id)["webhook_status_code"] == 410


def test_timeout_is_retried_and_error_status_is_sent(
    server: LiveServer, local_http: LocalHTTP
) -> None:
    local_http.routes[("POST", "/hook/slow")] = _scripted([200], delay_first_s=3.0)
    missing = f"{local_http.url}/media/missing.flac"
    transcript_id = _create(
        server, {"audio_url": missing, "webhook_url": f"{local_http.url}/hook/slow"}
    )
    job = _settled(server, transcript_id)
    assert job.status == "error"
    assert job.webhook_state == "delivered" and job.webhook_attempts == 2  # 2 s timeout, then ok
    assert local_http.posts("/hook/slow")[-1] == {"transcript_id": transcript_id, "status": "error"}


def test_gives_up_after_max_attempts(local_http: LocalHTTP, launch: object, audio_url: str) -> None:
    few: LiveServer = launch(webhook_max_attempts=3)  # type: ignore[operator]
    local_http.routes[("POST", "/hook/down")] = _scripted([502])
    with few.client() as c:
        url = c.post("/v2/upload", content=Path(__file__).read_bytes()).json()["upload_url"]
    transcript_id = _create(few, {"audio_url": url, "webhook_url": f"{local_http.url}/hook/down"})
    job = _settled(few, transcript_id)
    assert job.status == "error"  # a Python file is not audio
    assert job.webhook_state == "failed" and job.webhook_attempts == 3
    assert job.webhook_status_code == 502
    assert len(local_http.posts("/hook/down")) == 3

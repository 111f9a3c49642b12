"""Bad input gets a clear, specific error; the server stays up and keeps working."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import KEY, LiveServer, LocalHTTP


@pytest.fixture(scope="module")
def server(launch: object) -> LiveServer:
    return launch(max_upload_mb=2)  # type: ignore[operator, no-any-return]


@pytest.fixture(scope="module")
def strict(launch: object) -> LiveServer:
    """A server with the default rule: no private, loopback or link-local targets."""
    return launch(allow_private_urls=False)  # type: ignore[operator, no-any-return]


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def _submit(c: httpx.Client, body: dict[str, object]) -> str:
    r = c.post("/v2/transcript", json=body)
    assert r.status_code == 200, r.text
    transcript_id: str = r.json()["id"]
    return transcript_id


def _upload(c: httpx.Client, data: bytes) -> str:
    r = c.post("/v2/upload", content=data)
    assert r.status_code == 200, r.text
    url: str = r.json()["upload_url"]
    return url


def test_corrupt_upload_fails_the_job(
    server: LiveServer, client: httpx.Client, jfk_flac: Path
) -> None:
    corrupt = jfk_flac.read_bytes()[:4096] + os.urandom(100_000)
    url = _upload(client, corrupt)
    body = server.wait(_submit(client, {"audio_url": url}))
    assert body["status"] == "error"
    assert body["error"].startswith(f"Transcoding error, the file at {url} could not be decoded")
    assert "no audio samples" in body["error"]
    assert "/uploads/" not in body["error"].replace(url, "")  # no server paths leak


def test_non_media_upload_fails_the_job(server: LiveServer, client: httpx.Client) -> None:
    url = _upload(client, b"just some notes, not a recording\n" * 40)
    body = server.wait(_submit(client, {"audio_url": url}))
    assert body["status"] == "error"
    assert "not an audio or video file" in body["error"]


def test_empty_and_oversized_uploads(client: httpx.Client) -> None:
    r = client.post("/v2/upload", content=b"")
    assert r.status_code == 400 and "empty" in r.json()["error"]
    big = b"\0" * 2_100_000  # limit is 2 MB
    r = client.post("/v2/upload", content=big)
    assert r.status_code == 413 and "larger than the limit of 2 MB" in r.json()["error"]
    r = client.post("/v2/upload", content=iter([big[:1_000_000]] * 3))  # chunked, no length
    assert r.status_code == 413


def test_unreachable_url(server: LiveServer, client: httpx.Client) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/episode.mp3"
    body = server.wait(_submit(client, {"audio_url": url}))
    assert body["status"] == "error"
    assert body["error"] == f"Download error, unable to download {url}: the connection was refused"


def test_malformed_requests(client: httpx.Client) -> None:
    r = client.post("/v2/transcript", content=b'{"audio_url": ')
    assert r.status_code == 400
    assert r.json()["error"].startswith(
        "Transcript creation error, the request body is not valid JSON"
    )
    r = client.post("/v2/transcript", json={"speech_models": ["universal-3-pro"]})
    assert r.status_code == 400
    assert r.json() == {"error": "Transcript creation error, audio_url not found"}
    r = client.post("/v2/transcript", json=["not", "an", "object"])
    assert r.status_code == 400
    r = client.post("/v2/transcript", json={"audio_url": "ftp://example.com/a.mp3"})
    assert r.status_code == 400 and "http or https" in r.json()["error"]
    r = client.post("/v2/transcript", json={"audio_url": "http://x/a.mp3", "audio_start_from": -5})
    assert r.status_code == 400 and "audio_start_from" in r.json()["error"]
    r = client.post("/v2/transcript", json={"audio_url": "http://x/a.mp3", "custom_tags": "nope"})
    assert r.status_code == 400 and "nope" in r.json()["error"]
    r = client.post("/v2/transcript", json={"audio_url": "http://x/a.mp3", "custom_tags": []})
    assert r.status_code == 400 and "custom_tags" in r.json()["error"]


def test_unknown_ids_and_routes(client: httpx.Client) -> None:
    missing = {"error": "Transcript lookup error, transcript id not found"}
    for path in ("", "/srt", "/vtt", "/sentences", "/paragraphs"):
        r = client.get(f"/v2/transcript/00000000-0000-0000-0000-000000000000{path}")
        assert (r.status_code, r.json()) == (400, missing)
    r = client.get("/v2/transcript/nope/redacted-audio")
    assert (r.status_code, r.json()) == (400, missing)
    r = client.delete("/v2/transcript/nope")
    assert (r.status_code, r.json()) == (400, missing)
    r = client.get("/v2/transcript", params={"limit": "lots"})
    assert r.status_code == 400 and "limit" in r.json()["error"]
    r = client.get("/v2/nothing-here")
    assert (r.status_code, r.json()) == (404, {"error": "Not found"})


def test_private_url_is_refused_without_the_setting(
    strict: LiveServer, local_http: LocalHTTP, jfk_flac: Path
) -> None:
    url = local_http.serve_file("/private/jfk.flac", jfk_flac)
    served_before = len(local_http.requests)
    with strict.client() as c:
        body = strict.wait(_submit(c, {"audio_url": url}))
        assert body["status"] == "error"
        assert body["error"].startswith(f"Download error, unable to download {url}: 127.0.0.1")
        assert "loopback" in body["error"] and "EARMARK_ALLOW_PRIVATE_URLS=1" in body["error"]
        assert len(local_http.requests) == served_before  # no request was made
        r = c.post(
            "/v2/transcript", json={"audio_url": url, "webhook_url": local_http.url + "/hook"}
        )
        assert r.status_code == 400 and "webhook_url" in r.json()["error"]
        # its own upload URLs are local files, not requests: they still work
        upload = c.post("/v2/upload", content=jfk_flac.read_bytes()).json()["upload_url"]
        assert strict.wait(_submit(c, {"audio_url": upload}))["status"] == "completed"


def test_server_still_answers(server: LiveServer, client: httpx.Client, jfk_flac: Path) -> None:
    assert client.get("/health").json()["status"] == "ok"
    url = _upload(client, jfk_flac.read_bytes())
    body = server.wait(_submit(client, {"audio_url": url}))
    assert body["status"] == "completed"
    assert KEY not in str(body)

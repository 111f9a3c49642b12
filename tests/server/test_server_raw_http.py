"""The plain ``requests`` flow of AssemblyAI's docs, and the request options it honours."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import KEY, LiveServer
from polling import wait_until


@pytest.fixture(scope="module")
def server(launch: object) -> LiveServer:
    return launch()  # type: ignore[operator, no-any-return]


@pytest.fixture(scope="module")
def upload_url(server: LiveServer, jfk_flac: Path) -> str:
    with open(jfk_flac, "rb") as f:
        response = requests.post(
            server.url + "/v2/upload", headers={"authorization": KEY}, data=f, timeout=30
        )
    assert response.status_code == 200
    url: str = response.json()["upload_url"]
    return url


def _poll(base_url: str, transcript_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """The docs' loop, with a deadline instead of ``while True``."""
    polling_endpoint = base_url + "/v2/transcript/" + transcript_id

    def get() -> dict[str, Any]:
        result: dict[str, Any] = requests.get(polling_endpoint, headers=headers, timeout=30).json()
        return result

    return wait_until(
        f"transcript {transcript_id}",
        get,
        timeout=120,
        interval=0.1,
        until=lambda result: result["status"] in ("completed", "error"),
    )


def test_docs_flow(server: LiveServer, upload_url: str) -> None:
    base_url = server.url
    headers = {"authorization": KEY}
    data = {"audio_url": upload_url, "speech_models": ["universal-3-pro", "universal-2"]}
    response = requests.post(base_url + "/v2/transcript", json=data, headers=headers, timeout=30)
    assert response.status_code == 200
    created = response.json()
    assert created["status"] in ("queued", "processing")
    assert created["text"] is None and created["speech_model"] is None
    result = _poll(base_url, created["id"], headers)
    assert result["status"] == "completed", result["error"]
    assert "ask not what your country can do for you" in result["text"].lower()


def test_bearer_header_is_accepted(server: LiveServer, upload_url: str) -> None:
    response = requests.get(
        server.url + "/v2/transcript", headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    )
    assert response.status_code == 200


def test_missing_key_is_401(server: LiveServer) -> None:
    response = requests.get(server.url + "/v2/transcript", timeout=30)
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication error, API token missing/invalid"}


def test_punctuate_format_text_and_range(server: LiveServer, upload_url: str) -> None:
    headers = {"authorization": KEY}
    data = {
        "audio_url": upload_url,
        "punctuate": False,
        "format_text": False,
        "audio_start_from": 8000,
        "language_detection": True,
        "a_field_from_the_future": {"anything": [1, 2]},  # unknown fields are ignored
    }
    created = requests.post(server.url + "/v2/transcript", json=data, headers=headers, timeout=30)
    assert created.status_code == 200, created.text
    result = _poll(server.url, created.json()["id"], headers)
    assert result["status"] == "completed", result["error"]
    text = result["text"]
    assert text == text.lower() and not re.search(r"[.,!?;:]", text)
    assert "ask what you can do for your country" in text
    assert "fellow" not in text  # said before 8 s
    assert all(w["start"] >= 7900 for w in result["words"])  # times stay absolute
    assert result["punctuate"] is False and result["audio_start_from"] == 8000
    assert result["language_code"] == "en"
    assert 0 < result["language_confidence"] <= 1
    assert "a_field_from_the_future" not in result


def test_public_url_and_local_upload_resolution(launch: object, jfk_flac: Path) -> None:
    """upload_url uses EARMARK_PUBLIC_URL and resolves to the local file, never over HTTP
    (this host name does not even resolve)."""
    public = "http://earmark.invalid:9999/speech"
    live: LiveServer = launch(public_url=public, allow_private_urls=False)  # type: ignore[operator]
    headers = {"authorization": KEY}
    upload_url = requests.post(
        live.url + "/v2/upload", headers=headers, data=jfk_flac.read_bytes(), timeout=30
    ).json()["upload_url"]
    assert re.fullmatch(public + r"/v2/upload/[0-9a-f]{32}", upload_url)
    created = requests.post(
        live.url + "/v2/transcript", json={"audio_url": upload_url}, headers=headers, timeout=30
    ).json()
    result = _poll(live.url, created["id"], headers)
    assert result["status"] == "completed", result["error"]
    page = requests.get(live.url + "/v2/transcript", headers=headers, timeout=30).json()
    assert page["transcripts"][0]["resource_url"] == f"{public}/v2/transcript/{created['id']}"

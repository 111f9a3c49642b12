"""Helpers of the web app's tests: a live server (the server tests' launcher), signing in
through the form, and the CSRF token of a page."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import httpx

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "earmark_server_conftest", _HERE.parent / "server" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
server_conftest = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("earmark_server_conftest", server_conftest)
_spec.loader.exec_module(server_conftest)

KEY: str = server_conftest.KEY
OTHER_KEY: str = server_conftest.OTHER_KEY
LiveServer = server_conftest.LiveServer
make_settings = server_conftest.make_settings
start_server = server_conftest.start_server
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
CSRF_BODY = re.compile(r'data-csrf="([^"]*)"')

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
CHROMIUM = "/usr/bin/chromium"


def signed_in(url: str, key: str) -> tuple[httpx.Client, str]:
    """A client signed in with ``key`` through the form, and its session's CSRF token."""
    c = httpx.Client(base_url=url, follow_redirects=False, timeout=60.0)
    form = c.get("/signin")
    assert form.status_code == 200, form.text
    token = CSRF_FIELD.search(form.text)
    assert token is not None
    r = c.post("/signin", data={"api_key": key, "csrf": token.group(1)})
    assert r.status_code == 303, r.text
    return c, csrf_of(c)


def csrf_of(c: httpx.Client, path: str = "/") -> str:
    page = c.get(path)
    assert page.status_code == 200, page.text
    m = CSRF_BODY.search(page.text)
    assert m is not None
    return m.group(1)


def upload_and_create(c: httpx.Client, csrf: str, audio: Path, **fields: Any) -> str:
    """Upload ``audio`` and create a transcript as the page does (cookie + CSRF header)."""
    up = c.post("/v2/upload", content=audio.read_bytes(), headers={"X-CSRF-Token": csrf})
    assert up.status_code == 200, up.text
    body = {"audio_url": up.json()["upload_url"], **fields}
    r = c.post("/v2/transcript", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def wait_done(c: httpx.Client, transcript_id: str, timeout: float = 120.0) -> dict[str, Any]:
    from polling import wait_until

    def status() -> dict[str, Any] | None:
        body: dict[str, Any] = c.get(f"/web/api/transcripts/{transcript_id}").json()
        return body if body.get("status") in ("completed", "error") else None

    return wait_until(f"transcript {transcript_id}", status, timeout=timeout, interval=0.1)

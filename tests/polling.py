"""Waiting in tests: poll a check until it holds, with a deadline and no fixed sleeps.

``tests/`` modules import this as a top-level module: ``from polling import wait_until``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar, overload

import httpx

T = TypeVar("T")

DONE = ("completed", "error")


@overload
def wait_until(
    what: str, check: Callable[[], T | None], timeout: float = ..., interval: float = ...
) -> T: ...


@overload
def wait_until(
    what: str,
    check: Callable[[], T],
    timeout: float = ...,
    interval: float = ...,
    *,
    until: Callable[[T], object],
) -> T: ...


def wait_until(
    what: str,
    check: Callable[[], Any],
    timeout: float = 60.0,
    interval: float = 0.05,
    until: Callable[[Any], object] = bool,
) -> Any:
    """Call ``check()`` until ``until(value)`` holds (by default: the value is truthy) and
    return that value. An exception from ``check`` or ``until`` ends the wait at once.

    On timeout raise ``AssertionError("{what}: not done after {timeout} s (last: ...)")``
    with the last value ``check()`` returned.
    """
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if until(last):
            return last
        if time.monotonic() > deadline:
            shown = repr(last)
            if len(shown) > 2000:
                shown = shown[:2000] + "..."
            raise AssertionError(f"{what}: not done after {timeout} s (last: {shown})")
        time.sleep(interval)


def wait_transcript(
    client: httpx.Client,
    transcript_id: str,
    timeout: float = 120.0,
    interval: float = 0.05,
    alive: Callable[[], object] | None = None,
) -> dict[str, Any]:
    """Poll ``GET /v2/transcript/{id}`` until its status is ``completed`` or ``error``;
    return the body. ``alive`` (if given) runs after each unfinished poll and raises when
    something the transcript needs (a worker process) has died."""

    def finished(body: dict[str, Any]) -> bool:
        if body.get("status") in DONE:
            return True
        if alive is not None:
            alive()
        return False

    def poll() -> dict[str, Any]:
        body: dict[str, Any] = client.get(f"/v2/transcript/{transcript_id}").json()
        return body

    return wait_until(f"transcript {transcript_id}", poll, timeout, interval, until=finished)


def healthy(url: str, timeout: float = 1.0) -> bool:
    """Whether ``GET {url}/health`` answers 200 (False while the server is not up yet)."""
    try:
        return httpx.get(url + "/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False

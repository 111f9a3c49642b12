"""Fixtures of the web app's tests: servers on 127.0.0.1 (fake ASR unless a test needs
Whisper), stopped after the module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from webtools import LiveServer, make_settings, start_server


@pytest.fixture(scope="module")
def web_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LiveServer]]:
    """``web_server(asr=..., **server_settings)`` starts a server; all stop after the module."""
    started: list[LiveServer] = []

    def _start(asr: dict[str, Any] | None = None, **server: Any) -> LiveServer:
        live = start_server(make_settings(tmp_path_factory.mktemp("earmark-web"), asr, **server))
        started.append(live)
        return live

    yield _start
    for live in started:
        live.stop()

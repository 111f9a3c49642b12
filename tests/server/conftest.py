"""Real servers for the server tests: earmark with uvicorn in a thread, and a tiny local
HTTP server (files to download, webhook receivers), both bound to 127.0.0.1 on free ports
and stopped by the fixture that started them."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from polling import wait_transcript, wait_until

from earmark.config import ASRSettings, LLMSettings, ServerSettings, Settings
from earmark.server.app import create_app
from earmark.server.services import Services, build_services

KEY = "test-key-alpha"
OTHER_KEY = "test-key-bravo"
MODEL_MAP = "universal-3-pro=tiny.en,universal-2=tiny.en,slam-1=tiny.en"


def make_settings(
    data_dir: Path,
    asr: dict[str, Any] | None = None,
    llm: dict[str, Any] | None = None,
    **server: Any,
) -> Settings:
    """Settings for a test server: tiny.en greedy, private URLs allowed, two keys.

    ``asr`` / ``llm`` override ASR and LLM settings (``asr={"asr_engine": "fake"}`` runs the
    fake engine of ``tests/fake_asr.py`` instead of Whisper).
    """
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "api_keys": f"{KEY},{OTHER_KEY}",
        "allow_private_urls": True,
        "speech_model_map": MODEL_MAP,
        "workers": 1,
        "webhook_backoff_s": 0.05,
        "download_timeout_s": 5.0,
    }
    values.update(server)
    asr_values: dict[str, Any] = {"asr_model": "tiny.en", "asr_beam_size": 1, "asr_threads": 0}
    asr_values.update(asr or {})
    return Settings(
        asr=ASRSettings(**asr_values),
        server=ServerSettings(**values),
        llm=LLMSettings(**(llm or {})),
    )


@dataclass
class LiveServer:
    """An earmark app served by uvicorn on 127.0.0.1 in a background thread."""

    url: str
    services: Services
    server: uvicorn.Server
    thread: threading.Thread

    def client(self, key: str | None = KEY) -> httpx.Client:
        headers = {"authorization": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0)

    def wait(self, transcript_id: str, key: str = KEY, timeout: float = 120.0) -> dict[str, Any]:
        """Poll GET until the transcript is completed or error (deadline, no fixed sleeps)."""
        with self.client(key) as c:
            return wait_transcript(c, transcript_id, timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def start_server(settings: Settings) -> LiveServer:
    """Start earmark on a free 127.0.0.1 port and wait until it answers."""
    services = build_services(settings)
    app = create_app(services)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()

    def started() -> bool:
        if server.started:
            return True
        if not thread.is_alive():
            raise RuntimeError("earmark test server did not start")
        return False

    wait_until("earmark test server start", started, timeout=30, interval=0.02)
    return LiveServer(f"http://127.0.0.1:{port}", services, server, thread)


@pytest.fixture(scope="module")
def launch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """``launch(**server_settings)`` starts a server; all are stopped after the module."""
    started: list[LiveServer] = []

    def _launch(
        asr: dict[str, Any] | None = None, llm: dict[str, Any] | None = None, **server: Any
    ) -> LiveServer:
        data_dir = tmp_path_factory.mktemp("earmark-data")
        live = start_server(make_settings(data_dir, asr, llm, **server))
        started.append(live)
        return live

    yield _launch
    for live in started:
        live.stop()


Handler = Callable[[BaseHTTPRequestHandler, bytes], tuple[int, dict[str, str], bytes]]


@dataclass
class LocalHTTP:
    """A small HTTP server on 127.0.0.1: routes are ``(method, path) -> handler``."""

    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def serve_file(self, path: str, file: Path, content_type: str = "audio/flac") -> str:
        data = file.read_bytes()
        self.routes[("GET", path)] = lambda h, b: (200, {"Content-Type": content_type}, data)
        return self.url + path

    def start(self) -> None:
        outer = self

        class _H(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                handler = outer.routes.get((self.command, path))
                if handler is None:
                    status, headers, payload = 404, {}, b"not found"
                else:
                    status, headers, payload = handler(self, body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def posts(self, path: str) -> list[dict[str, Any]]:
        """JSON bodies POSTed to ``path``."""
        return [
            json.loads(body)
            for method, p, _, body in self.requests
            if method == "POST" and p.split("?", 1)[0] == path
        ]


@pytest.fixture(scope="module")
def local_http() -> Iterator[LocalHTTP]:
    http = LocalHTTP()
    http.start()
    yield http
    http.stop()

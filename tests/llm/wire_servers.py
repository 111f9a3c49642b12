"""Small real HTTP servers on 127.0.0.1 that speak provider wire formats, for provider tests.

Each answers from a script of canned replies and records what it received, so tests can
check both directions of the translation.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: a status and a JSON body, or SSE events when ``events`` is set."""

    status: int = 200
    body: Any = None
    events: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    wait: threading.Event | None = None


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


class WireServer:
    """A scripted JSON/SSE server; ``replies`` are used in order (the last one repeats)."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.requests: list[Recorded] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                server.requests.append(
                    Recorded(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        json.loads(raw or b"null"),
                    )
                )
                index = min(len(server.requests), len(server.replies)) - 1
                reply = server.replies[index]
                if reply.wait is not None:
                    reply.wait.wait(10)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if reply.events is not None:
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for event in reply.events:
                        name = event.get("type", "message")
                        data = json.dumps(event)
                        self.wfile.write(f"event: {name}\ndata: {data}\n\n".encode())
                    return
                data = json.dumps(reply.body).encode()
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[WireServer]:
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            for reply in self.replies:
                if reply.wait is not None:
                    reply.wait.set()
            self.httpd.shutdown()
            self.httpd.server_close()
            thread.join(5)

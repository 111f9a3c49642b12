"""A size limit on request bodies, enforced while they stream in.

Every route but ``POST /v2/upload`` (which has its own, much larger, limit and streams to
disk) reads JSON or form bodies into memory; a client must not be able to make the server
hold hundreds of megabytes for one of them. A declared ``Content-Length`` over the limit is
refused before a byte is read; a chunked body is counted as it arrives and refused the
moment it passes the limit. Both answer 413 with the usual error body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from earmark.errors import PayloadTooLargeError

__all__ = ["BodyLimit"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: bodies over ``max_bytes`` are refused with a 413.

    ``exempt`` holds exact paths that stream their bodies and check sizes themselves.
    The error is raised inside the app's ``receive`` call, so the app's own error handler
    renders it like any other :class:`~earmark.errors.EarmarkError`.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = exempt

    def _error(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"Request error, the request body is larger than {self.max_bytes // 1000} kB "
            "(EARMARK_MAX_REQUEST_KB); send large media with POST /v2/upload"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").rstrip("/") in self.exempt:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._error()
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        import json

        body = json.dumps({"error": self._error().message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

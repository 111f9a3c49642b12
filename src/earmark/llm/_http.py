"""HTTP plumbing shared by the remote providers: timeouts, retries with backoff, errors."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import httpx

from earmark.errors import (
    ContextLengthError,
    InputError,
    NotFoundError,
    UpstreamError,
    UpstreamTimeoutError,
)
from earmark.llm.base import ProviderConfig

__all__ = ["HttpClient"]

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "context window",
    "too long",
    "maximum context",
)


class HttpClient:
    """A JSON client for one provider, with retries on 429/5xx and clear errors."""

    def __init__(
        self,
        provider: str,
        config: ProviderConfig,
        base_url: str,
        headers: dict[str, str],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.config = config
        if transport is None:
            # httpx sends headers and body in two writes; without TCP_NODELAY, Nagle's
            # algorithm and the peer's delayed ACK add ~40 ms to every request.
            nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
            transport = httpx.HTTPTransport(socket_options=nodelay)
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s, connect=min(10.0, config.timeout_s)),
            transport=transport,
        )
        self.sleep: Callable[[float], None] = time.sleep

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` and return the JSON answer, retrying on 429/5xx."""
        for attempt in range(self.config.retries + 1):
            response = self._send(path, body, attempt)
            if response is None:
                continue
            data = _json(response, self.provider)
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def stream_lines(self, path: str, body: dict[str, Any]) -> Iterator[Iterator[str]]:
        """POST ``body`` and yield the response lines (server-sent events).

        Retries happen only before the first byte arrives.
        """
        for attempt in range(self.config.retries + 1):
            request = self._client.build_request("POST", path.lstrip("/"), json=body)
            try:
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                if attempt < self.config.retries:
                    self._backoff(attempt, None)
                    continue
                raise self._timeout(exc) from exc
            except httpx.HTTPError as exc:
                if attempt < self.config.retries:
                    self._backoff(attempt, None)
                    continue
                raise self._unreachable(exc) from exc
            try:
                if response.status_code in RETRY_STATUSES and attempt < self.config.retries:
                    response.read()
                    self._backoff(attempt, response)
                    continue
                if response.status_code >= 400:
                    response.read()
                    raise _status_error(response, self.provider)
                yield self._lines(response)
                return
            finally:
                response.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _lines(self, response: httpx.Response) -> Iterator[str]:
        try:
            yield from response.iter_lines()
        except httpx.TimeoutException as exc:
            raise self._timeout(exc) from exc
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc

    def _send(self, path: str, body: dict[str, Any], attempt: int) -> httpx.Response | None:
        last = attempt >= self.config.retries
        try:
            response = self._client.post(path.lstrip("/"), json=body)
        except httpx.TimeoutException as exc:
            if not last:
                self._backoff(attempt, None)
                return None
            raise self._timeout(exc) from exc
        except httpx.HTTPError as exc:
            if not last:
                self._backoff(attempt, None)
                return None
            raise self._unreachable(exc) from exc
        if response.status_code in RETRY_STATUSES and not last:
            self._backoff(attempt, response)
            return None
        if response.status_code >= 400:
            raise _status_error(response, self.provider)
        return response

    def _backoff(self, attempt: int, response: httpx.Response | None) -> None:
        delay = min(8.0, 0.5 * 2**attempt)
        if response is not None:
            retry_after = response.headers.get("retry-after")
            if retry_after:
                with suppress(ValueError):
                    delay = min(30.0, max(0.0, float(retry_after)))
        status = response.status_code if response is not None else "no answer"
        log.warning("%s: %s, retrying in %.1f s", self.provider, status, delay)
        self.sleep(delay)

    def _timeout(self, exc: Exception) -> UpstreamTimeoutError:
        return UpstreamTimeoutError(
            f"{self.provider} did not answer within {self.config.timeout_s:g} s "
            f"({type(exc).__name__}); raise EARMARK_LLM_TIMEOUT_S or the route's timeout_s"
        )

    def _unreachable(self, exc: Exception) -> UpstreamError:
        return UpstreamError(
            f"cannot reach {self.provider} at {self._client.base_url}: {exc or type(exc).__name__}"
        )


def _json(response: httpx.Response, provider: str) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UpstreamError(
            f"{provider} answered with invalid JSON: {response.text[:200]!r}"
        ) from exc
    if not isinstance(data, dict):
        raise UpstreamError(f"{provider} answered with {type(data).__name__}, not a JSON object")
    return data


def _status_error(response: httpx.Response, provider: str) -> Exception:
    """Map an upstream error status to an earmark error, keeping the upstream message."""
    message = _error_message(response)
    text = f"{provider} answered {response.status_code}: {message}"
    lowered = message.lower()
    if response.status_code in (400, 413, 422) and any(h in lowered for h in _CONTEXT_HINTS):
        return ContextLengthError(text)
    if response.status_code in (401, 403):
        return UpstreamError(text + " (check the API key of this route)")
    if response.status_code == 404:
        return NotFoundError(text)
    if response.status_code in (400, 422):
        return InputError(text)
    if response.status_code in (408, 504):
        return UpstreamTimeoutError(text)
    return UpstreamError(text)


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        err = body.get("error", body.get("message"))
        if isinstance(err, dict):
            return str(err.get("message") or err)
        if err:
            return str(err)
    return str(body)[:300]

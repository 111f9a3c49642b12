"""Webhook delivery: ``POST {transcript_id, status}`` when a job reaches a terminal status.

Delivery state lives in the store (``pending`` -> ``delivered`` | ``failed``), so a
restarted server resends what was pending and never sends a delivered one again.
Errors, timeouts and 5xx answers are retried with exponential backoff up to
``max_attempts`` attempts in all; a 4xx answer (or any other non-2xx) stops at once.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from earmark.errors import DownloadError
from earmark.jobs.fetch import resolve_target
from earmark.storage.base import TranscriptStore

__all__ = ["WebhookOptions", "WebhookSender"]

log = logging.getLogger("earmark.webhooks")


@dataclass(frozen=True)
class WebhookOptions:
    """How webhooks are delivered.

    max_attempts: attempts in all, the first included.
    timeout_s: the receiver must answer within this time.
    backoff_s: wait before the first retry; doubles each time, up to ``max_backoff_s``.
    allow_private: let webhooks reach private, loopback and link-local addresses.
    """

    max_attempts: int = 10
    timeout_s: float = 10.0
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    allow_private: bool = False


class WebhookSender:
    """Delivers webhooks on a small thread pool, away from the transcription workers."""

    def __init__(self, store: TranscriptStore, options: WebhookOptions, threads: int = 4) -> None:
        self.store = store
        self.options = options
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="earmark-webhook")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._inflight: set[str] = set()
        self._client = httpx.Client(
            timeout=httpx.Timeout(options.timeout_s), follow_redirects=False, trust_env=False
        )

    def start(self) -> None:
        """Resend the webhooks a previous run left pending."""
        for job_id in self.store.pending_webhooks():
            self.submit(job_id)

    def submit(self, job_id: str) -> None:
        """Deliver the webhook of ``job_id`` if it has one pending (no-op otherwise)."""
        with self._lock:
            if job_id in self._inflight or self._stop.is_set():
                return
            self._inflight.add(job_id)
        try:
            self._pool.submit(self._run, job_id)
        except RuntimeError:  # pool shut down
            with self._lock:
                self._inflight.discard(job_id)

    def stop(self) -> None:
        """Stop retrying (pending deliveries resume at the next start)."""
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def _run(self, job_id: str) -> None:
        try:
            self.deliver(job_id)
        except Exception:  # never let one webhook kill the pool
            log.exception("webhook for transcript %s failed", job_id)
        finally:
            with self._lock:
                self._inflight.discard(job_id)

    def deliver(self, job_id: str) -> None:
        """Try to deliver one job's webhook until it is delivered, refused or out of attempts."""
        job = self.store.get(job_id)
        if job is None or job.webhook_state != "pending" or not job.webhook_url:
            return
        url = job.webhook_url
        headers = {"Content-Type": "application/json"}
        name = job.request.get("webhook_auth_header_name")
        if isinstance(name, str) and name and job.webhook_secret is not None:
            headers[name] = job.webhook_secret
        body = {"transcript_id": job.id, "status": job.status}
        attempts = job.webhook_attempts
        code: int | None = job.webhook_status_code
        while attempts < self.options.max_attempts and not self._stop.is_set():
            attempts += 1
            try:
                target = resolve_target(url, self.options.allow_private)
            except DownloadError as exc:
                log.warning("webhook for %s refused: %s", job_id, exc)
                self.store.set_webhook(job_id, state="failed", status_code=None, attempts=attempts)
                return
            try:
                response = self._client.post(
                    target.url,
                    json=body,
                    headers={**headers, **target.headers},
                    extensions=target.extensions,
                )
                code = response.status_code
            except httpx.HTTPError as exc:
                log.info("webhook for %s, attempt %d: %s", job_id, attempts, exc)
                code = None
            if code is not None and 200 <= code < 300:
                self.store.set_webhook(
                    job_id, state="delivered", status_code=code, attempts=attempts
                )
                return
            if code is not None and not 500 <= code < 600:
                self.store.set_webhook(job_id, state="failed", status_code=code, attempts=attempts)
                return
            self.store.set_webhook(job_id, state="pending", status_code=code, attempts=attempts)
            delay = min(self.options.backoff_s * 2 ** (attempts - 1), self.options.max_backoff_s)
            if attempts < self.options.max_attempts and self._stop.wait(delay):
                return
        if attempts >= self.options.max_attempts:
            self.store.set_webhook(job_id, state="failed", status_code=code, attempts=attempts)

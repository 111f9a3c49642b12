"""The storage seam: what the server and the job pipeline need to keep, and nothing more.

:class:`TranscriptStore` holds transcript jobs (the request, their state, their result) and
the index of uploaded files. The embedded implementation is SQLite
(:mod:`earmark.storage.sqlite`); a PostgreSQL one implements the same methods. Routes and
the pipeline only ever see this interface and the dataclasses below.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from earmark.types import TagResult, Transcript

__all__ = [
    "TERMINAL",
    "JobRecord",
    "JobResult",
    "JobStatus",
    "ListQuery",
    "Page",
    "TopicsOutcome",
    "TranscriptStore",
    "UploadRecord",
    "WebhookState",
    "utc_now",
]

JobStatus = Literal["queued", "processing", "completed", "error"]
WebhookState = Literal["pending", "delivered", "failed"]
TERMINAL: frozenset[str] = frozenset({"completed", "error"})


def utc_now() -> str:
    """The current UTC time as an ISO 8601 string with microseconds and no offset.

    This is the form AssemblyAI uses for ``created``/``completed`` (e.g.
    ``2024-05-16T19:27:30.495807``); the SDKs parse it as a date.
    """
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class TopicsOutcome:
    """Topic tags for one transcript, or why they could not be computed."""

    result: TagResult | None = None
    error: str | None = None
    per_party: tuple[tuple[str, TagResult], ...] = ()
    """Tags of what each speaker (or channel) said on their own, when asked for."""


@dataclass(frozen=True)
class JobResult:
    """What a finished job produced: the transcript and the optional topic tags.

    ``model`` is the local engine that ran (``speech_model_used``).
    ``custom_tags``/``iab`` are ``None`` when not requested.
    ``redacted_audio`` is the upload id of the PII-redacted audio (``redact_pii_audio``).
    """

    transcript: Transcript
    model: str
    custom_tags: TopicsOutcome | None = None
    iab: TopicsOutcome | None = None
    redacted_audio: str | None = None


@dataclass(frozen=True)
class JobRecord:
    """One transcript job as stored.

    ``request`` is the create request as the client sent it (known and unknown fields),
    minus the webhook auth header value, which is kept apart in ``webhook_secret`` and
    never shown. ``owner`` identifies the API key that created the job.
    ``upload_id`` is set when ``audio_url`` names one of this server's uploads.
    ``options`` is the stored form of the typed job options the server built from the
    request (:func:`earmark.jobs.options.options_to_json`); ``None`` on jobs stored before
    options were kept, and after delete.
    """

    id: str
    owner: str
    status: JobStatus
    created: str
    audio_url: str
    request: dict[str, object] = field(default_factory=dict)
    options: dict[str, object] | None = None
    webhook_secret: str | None = None
    upload_id: str | None = None
    completed: str | None = None
    error: str | None = None
    result: JobResult | None = None
    attempts: int = 0
    webhook_state: WebhookState | None = None
    webhook_status_code: int | None = None
    webhook_attempts: int = 0
    deleted: bool = False
    seq: int = 0

    @property
    def webhook_url(self) -> str | None:
        url = self.request.get("webhook_url")
        return url if isinstance(url, str) and url else None

    @property
    def text(self) -> str | None:
        """The transcript text once completed, else ``None``."""
        return self.result.transcript.text if self.result is not None else None


@dataclass(frozen=True)
class UploadRecord:
    """A file a client uploaded with ``POST /v2/upload``."""

    id: str
    owner: str
    path: str
    size: int
    created: str


@dataclass(frozen=True)
class ListQuery:
    """Filters of ``GET /v2/transcript``. Newest first.

    ``before_id`` gives older transcripts than that one, ``after_id`` newer ones.
    ``created_on`` is a ``YYYY-MM-DD`` date (UTC).
    """

    limit: int = 10
    status: JobStatus | None = None
    created_on: str | None = None
    before_id: str | None = None
    after_id: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a listing, newest first, and whether more exist on either side."""

    items: tuple[JobRecord, ...]
    has_older: bool
    has_newer: bool


class TranscriptStore(ABC):
    """Durable storage of transcript jobs and uploads.

    Every method is synchronous and safe to call from several threads. Writes that move
    a job between states are conditional (compare-and-set), so a job that is executed
    twice (queues are at-least-once) is stored once.
    """

    @abstractmethod
    def create(self, job: JobRecord) -> JobRecord:
        """Insert a new job (status ``queued``); returns it with its sequence number."""

    @abstractmethod
    def get(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        """The job with this id (restricted to ``owner`` unless ``None``), or ``None``."""

    def version(self, job_id: str, owner: str) -> tuple[object, ...] | None:
        """A cheap fingerprint of what the transcript object shows (status, webhook status,
        deletion), or ``None`` if ``owner`` has no such job. Readers cache rendered
        transcripts under it. Backends should override this with a one-row query."""
        job = self.get(job_id, owner)
        if job is None:
            return None
        return (job.status, job.webhook_status_code, job.deleted, job.completed)

    @abstractmethod
    def list_page(self, owner: str, query: ListQuery) -> Page:
        """A page of ``owner``'s jobs, newest first."""

    @abstractmethod
    def claim(self, job_id: str) -> JobRecord | None:
        """Move a ``queued`` job to ``processing`` and count the attempt.

        Returns ``None`` if the job is not queued (done, deleted, or claimed elsewhere).
        """

    @abstractmethod
    def finish(
        self, job_id: str, *, result: JobResult | None = None, error: str | None = None
    ) -> bool:
        """Store the outcome of a ``processing`` job: ``completed`` with ``result``, or
        ``error`` with ``error``. Marks a webhook as pending when the job has one.

        Returns ``False`` (and changes nothing) when the job was already finished.
        """

    @abstractmethod
    def fail_queued(self, job_id: str, error: str) -> bool:
        """Mark a ``queued`` job as ``error`` (e.g. it was interrupted too many times)."""

    @abstractmethod
    def requeue_interrupted(self) -> list[str]:
        """Put jobs left ``processing`` by a dead process back to ``queued``.

        Returns the ids of every queued job, oldest first. Only call this when no other
        process is working on this store (the embedded, single-process setup).
        """

    @abstractmethod
    def delete(self, job_id: str, owner: str) -> JobRecord | None:
        """Wipe a finished job's data (text, words, audio URL, tags); ``None`` if unknown.

        The upload it used is left alone: the caller then calls :meth:`remove_upload` with
        the returned record's ``upload_id`` and ``owner``, which removes it only when no
        other live transcript uses it.
        """

    @abstractmethod
    def set_webhook(
        self, job_id: str, *, state: WebhookState, status_code: int | None, attempts: int
    ) -> None:
        """Record the state of a job's webhook delivery."""

    @abstractmethod
    def pending_webhooks(self) -> list[str]:
        """Ids of finished jobs whose webhook is still to be delivered."""

    @abstractmethod
    def add_upload(self, upload: UploadRecord) -> None:
        """Index an uploaded file."""

    @abstractmethod
    def get_upload(self, upload_id: str) -> UploadRecord | None:
        """An uploaded file by id, or ``None``."""

    def local_upload_path(self, upload_id: str) -> Path | None:
        """A file on this machine with the upload's bytes, or ``None`` (unknown, or gone).

        A store that keeps uploads elsewhere (PostgreSQL keeps their bytes in the database,
        so any server can run any job) copies them to a local cache first.
        """
        upload = self.get_upload(upload_id)
        if upload is None or not Path(upload.path).is_file():
            return None
        return Path(upload.path)

    @abstractmethod
    def upload_users(self, upload_id: str, owner: str) -> int:
        """How many live (not deleted) transcripts of ``owner`` refer to this upload,
        whatever their status (queued, processing, completed or error)."""

    @abstractmethod
    def expired_uploads(self, before: str) -> list[UploadRecord]:
        """Uploads created before ``before`` (a :func:`utc_now` string) that no live
        transcript of their owner refers to, oldest first: those never used, and those
        whose transcripts were all deleted (normally removed at that delete already)."""

    @abstractmethod
    def remove_upload(self, upload_id: str, owner: str) -> UploadRecord | None:
        """Remove ``owner``'s upload as the store keeps it (its index row; on PostgreSQL its
        bytes and this process's cached copy too) **unless** a live transcript of ``owner``
        refers to it. Another key's upload is never touched.

        Returns the removed record, so the caller can delete the file at its ``path``;
        ``None`` when it was kept or is unknown (already removed: removal is idempotent,
        safe with several servers on one database). The check and the removal are atomic
        with respect to :meth:`create`: a transcript created at the same moment either
        keeps the upload or finds it gone.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

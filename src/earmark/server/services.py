"""The services container the app runs on: storage, files, keys, the queue, the pipeline,
the webhook sender and the runtime (ASR engines, taggers, LLM router), all built from one
:class:`earmark.config.Settings`.

``create_app(services)`` puts it on ``app.state.services``; routes (and the LLM gateway
router) reach it through :func:`earmark.server.deps.get_services`. Nothing here imports
FastAPI, so the container can also drive jobs without a web server.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from earmark.config import Settings
from earmark.errors import NotFoundError
from earmark.jobs.base import JobQueue
from earmark.jobs.fetch import FetchOptions
from earmark.jobs.local import LocalQueue
from earmark.jobs.pipeline import Pipeline, PipelineConfig, parse_model_map
from earmark.jobs.topics import default_tags_spec
from earmark.jobs.webhooks import WebhookOptions, WebhookSender
from earmark.runtime import Runtime
from earmark.storage import JobRecord, TranscriptStore, is_postgres_url, open_store
from earmark.storage.files import FileStore
from earmark.storage.keys import KeyRing, KeysFile
from earmark.tagging.registry import check_engine

__all__ = ["Services", "build_services", "default_workers"]

log = logging.getLogger("earmark.server")


def default_workers(cores: int | None = None) -> int:
    """Transcription workers for this machine: one per 4 cores, at least one.

    CTranslate2 already spreads one transcription over every core it is given, so on a
    small machine (2 cores) one worker is fastest; more workers pay off with more cores.
    """
    n = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, n // 4)


@dataclass
class Services:
    """Everything the HTTP layer needs, started and stopped together."""

    settings: Settings
    store: TranscriptStore
    files: FileStore
    keys: KeyRing
    queue: JobQueue
    pipeline: Pipeline
    webhooks: WebhookSender
    runtime: Runtime
    started: bool = False

    def start(self) -> None:
        """Start the workers and resend pending webhooks (recovers unfinished jobs), and the
        sweep of unused uploads older than ``EARMARK_UPLOAD_TTL_HOURS`` (at once, then every
        10 minutes; see :mod:`earmark.storage.sweep`)."""
        if self.started:
            return
        from earmark.storage.sweep import UploadSweeper

        self.files.clean_tmp()
        self.queue.start(self.pipeline.run)
        self.webhooks.start()
        self.upload_sweeper = UploadSweeper(
            self.store, self.files, self.settings.server.upload_ttl_hours
        )
        self.upload_sweeper.start()
        self.started = True

    def stop(self) -> None:
        """Stop workers and webhooks, then close the store. Unfinished work resumes at the
        next start."""
        if not self.started:
            self.store.close()
            return
        self.upload_sweeper.stop()
        self.queue.stop()
        self.webhooks.stop()
        self.store.close()
        self.started = False

    def load_transcript(self, transcript_id: str, owner: str) -> JobRecord:
        """The transcript ``transcript_id`` if ``owner`` created it.

        Raises :class:`NotFoundError` (404) for an unknown id, another key's transcript or a
        deleted one. ``record.status`` says whether it is completed; ``record.text`` is the
        text (``None`` until completed). Used by the LLM gateway for ``{{ transcript }}``.
        """
        job = self.store.get(transcript_id, owner)
        if job is None or job.deleted:
            raise NotFoundError(f"Transcript {transcript_id!r} not found")
        return job


def build_services(settings: Settings | None = None) -> Services:
    """Build (not start) the services for ``settings`` (default: from the environment)."""
    settings = settings or Settings()
    srv = settings.server
    srv.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(srv)
    files = FileStore(srv.data_dir)
    keys = KeyRing(srv.api_keys, KeysFile(srv.keys_file or srv.data_dir / "keys.json"))
    workers = srv.workers if srv.workers > 0 else default_workers()
    config = PipelineConfig(
        settings=settings,
        fetch=FetchOptions(
            max_bytes=srv.max_upload_mb * 1_000_000,
            timeout_s=srv.download_timeout_s,
            allow_private=srv.allow_private_urls,
        ),
        workers=workers,
        model_map=parse_model_map(srv.speech_model_map),
        default_custom_tags=default_tags_spec(srv.custom_tags),
        default_tag_engine=check_engine(srv.tag_engine, "EARMARK_TAG_ENGINE"),
    )
    webhook_options = WebhookOptions(
        max_attempts=srv.webhook_max_attempts,
        timeout_s=srv.webhook_timeout_s,
        backoff_s=srv.webhook_backoff_s,
        allow_private=srv.allow_private_urls,
    )
    queue: JobQueue
    webhooks: WebhookSender
    if srv.queue == "procrastinate" or (srv.queue == "auto" and is_postgres_url(srv.database_url)):
        from earmark.jobs.procrastinate_queue import build_procrastinate

        queue, webhooks = build_procrastinate(store, srv, workers, webhook_options)
    else:
        queue = LocalQueue(store, workers, nice=srv.worker_nice)
        webhooks = WebhookSender(store, webhook_options)
    runtime = Runtime(settings)
    pipeline = Pipeline(store, files, config, runtime, notify=webhooks.submit)
    return Services(
        settings=settings,
        store=store,
        files=files,
        keys=keys,
        queue=queue,
        pipeline=pipeline,
        webhooks=webhooks,
        runtime=runtime,
    )

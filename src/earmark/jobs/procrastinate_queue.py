"""The multi-machine job queue: procrastinate on the PostgreSQL database of the store.

Job ids travel as procrastinate jobs (queue ``earmark-transcripts``); the store stays the
source of truth, and every handler is idempotent by job id (the store's compare-and-set
``claim``/``finish``), so the queue's at-least-once delivery stores each outcome once.

- **Enqueue is transactional**: the queue registers a create hook on
  :class:`~earmark.storage.postgres.PostgresStore`, so ``POST /v2/transcript`` inserts the
  transcript row and its procrastinate job in one transaction. The route's later
  ``enqueue()`` call finds the id already deferred and does nothing.
- **One run at a time**: each procrastinate job carries a lock named after its transcript,
  so at most one is running anywhere; a run that finds its transcript still
  ``processing`` therefore knows the previous attempt died, and takes it over.
- **Killed workers**: every worker process beats (procrastinate heartbeats, every
  ``stalled_after_s / 4``) and sweeps at that pace: jobs of workers silent for
  ``stalled_after_s`` are replaced by fresh ones and their transcripts put back to
  ``queued`` (:mod:`earmark.jobs.procrastinate_recovery`). A stopping process hands its
  running jobs back the same way, at once.
- **Webhooks** are procrastinate jobs too (queue ``earmark-webhooks``, one lock per
  transcript, so one delivery runs at a time across all machines): deferred by the
  transcript job once the outcome is stored, so a worker killed between storing and
  notifying still leads to one delivery.
- **Uploads** stored in the database are copied to the worker's cache folder before the
  pipeline runs and removed after (see :meth:`PostgresStore.materialize_upload`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import procrastinate
from procrastinate import exceptions as pexc
from procrastinate.manager import JobManager

from earmark.config import ServerSettings
from earmark.errors import InputError
from earmark.jobs import procrastinate_recovery as recovery
from earmark.jobs.base import JobHandler, JobQueue
from earmark.jobs.webhooks import WebhookOptions, WebhookSender
from earmark.storage.base import TranscriptStore
from earmark.storage.pg_migrations import migrate_procrastinate
from earmark.storage.postgres import PostgresStore

__all__ = [
    "TASK_TRANSCRIBE",
    "TASK_WEBHOOK",
    "TRANSCRIPTS_QUEUE",
    "WEBHOOKS_QUEUE",
    "ProcrastinateOptions",
    "ProcrastinateQueue",
    "QueuedWebhooks",
    "build_procrastinate",
]

log = logging.getLogger("earmark.jobs")

TRANSCRIPTS_QUEUE = "earmark-transcripts"
WEBHOOKS_QUEUE = "earmark-webhooks"
TASK_TRANSCRIBE = "earmark.transcribe"
TASK_WEBHOOK = "earmark.webhook"
_RETRY = procrastinate.RetryStrategy(max_attempts=6, exponential_wait=2)


@dataclass(frozen=True)
class ProcrastinateOptions:
    """How this process takes part in the queue.

    workers: transcription jobs this process runs at once (0 = none: enqueue only).
    webhook_workers: webhook deliveries this process runs at once (with ``workers > 0``).
    stalled_after_s: a job whose worker sent no heartbeat for this long is run again.
    grace_s: after SIGTERM, how long to wait for running jobs (``None``: until they end);
        then they are handed back to the queue and the process exits.
    max_connections: size of the worker's own connection pool.
    """

    workers: int = 1
    webhook_workers: int = 2
    stalled_after_s: float = 20.0
    grace_s: float | None = None
    max_connections: int = 4

    @property
    def heartbeat_s(self) -> float:
        """Heartbeat (and sweep, and fallback poll) interval: a quarter of the stall window."""
        return max(0.2, self.stalled_after_s / 4)


class ProcrastinateQueue(JobQueue):
    """procrastinate on the store's database (see the module docstring)."""

    def __init__(self, store: PostgresStore, options: ProcrastinateOptions) -> None:
        self.store = store
        self.options = options
        with store.connection() as conn:
            migrate_procrastinate(conn, store.schema)
        connector = procrastinate.PsycopgConnector(
            conninfo=store.options.url,
            kwargs=store.options.connect_kwargs(),
            min_size=1,
            max_size=max(2, options.max_connections),
        )
        self.app = procrastinate.App(connector=connector)
        self.app.task(name=TASK_TRANSCRIBE, queue=TRANSCRIPTS_QUEUE, retry=_RETRY)(
            self._run_transcript
        )
        self.app.task(name=TASK_WEBHOOK, queue=WEBHOOKS_QUEUE, retry=_RETRY)(self._run_webhook)
        # defers made on the store's own connections (inside its transactions)
        self._deferrer = JobManager(procrastinate.SyncPsycopgConnector())
        self._in_tx: set[str] = set()
        self._lock = threading.Lock()
        self._running: set[tuple[str, str]] = set()
        self._uploads_lock = threading.Lock()
        self._upload_users: dict[str, int] = {}
        self._handler: JobHandler | None = None
        self.webhooks: WebhookSender | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        store.add_create_hook(self._defer_in_transaction)

    # -- JobQueue -------------------------------------------------------------------

    def start(self, handler: JobHandler) -> None:
        """Run workers in a background thread (``workers > 0``); otherwise only enqueue.

        Nothing is reset here: jobs other processes are running stay theirs; jobs of
        dead workers are recovered by the sweeper of any running worker.
        """
        self._handler = handler
        if self.options.workers < 1 or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._main(signals=False)),
            name="earmark-procrastinate",
            daemon=True,
        )
        self._thread.start()
        self._ready.wait(30)

    def run(self, handler: JobHandler) -> None:
        """Run workers in the foreground until SIGTERM or SIGINT (``earmark worker``).

        The first signal stops taking jobs and waits for running ones (up to
        ``grace_s``); a second one exits at once (the sweeper re-runs those jobs).
        """
        self._handler = handler
        asyncio.run(self._main(signals=True))

    def enqueue(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._in_tx:
                self._in_tx.discard(job_id)
                return  # deferred in the transaction that stored it
        with self.store.connection() as conn:
            self._defer(conn, TASK_TRANSCRIBE, job_id)

    def stop(self, timeout: float = 5.0) -> None:
        loop, stop, thread = self._loop, self._stop, self._thread
        if loop is not None and stop is not None and thread is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop.set)
            thread.join(timeout)
            if thread.is_alive():  # a long transcription: let another worker redo it now
                handed = self.hand_back()
                log.warning("stopped with %d job(s) running, handed back: %s", len(handed), handed)
        self._thread = None

    def pending(self) -> int:
        with self.store.connection() as conn:
            row = conn.execute(
                "SELECT count(*) AS n FROM procrastinate_jobs "
                "WHERE status = 'todo' AND queue_name = %s",
                (TRANSCRIPTS_QUEUE,),
            ).fetchone()
        return int(row["n"]) if row is not None else 0

    # -- deferring ------------------------------------------------------------------

    def defer_webhook(self, job_id: str) -> None:
        """Schedule the delivery of a transcript's webhook (no-op if one is waiting)."""
        with self.store.connection() as conn:
            self._defer(conn, TASK_WEBHOOK, job_id)

    def _defer_in_transaction(self, conn: Any, job: Any) -> None:
        self._defer(conn, TASK_TRANSCRIBE, job.id)
        with self._lock:
            self._in_tx.add(job.id)

    def _defer(self, conn: Any, task_name: str, job_id: str) -> None:
        """Insert a procrastinate job on ``conn``; at most one waits per (task, transcript)."""
        key = f"{task_name}:{job_id}"
        job = (
            self.app.tasks[task_name]
            .configure(
                task_kwargs={"job_id": job_id},
                queueing_lock=key,  # at most one waiting...
                lock=key,  # ...and one running, across every machine
            )
            .job
        )
        try:
            with conn.transaction():  # a savepoint inside the caller's transaction
                self._deferrer.defer_job(job, connection=conn)
        except pexc.AlreadyEnqueued:
            pass  # one is already waiting: it will do the work

    # -- tasks ----------------------------------------------------------------------

    def _run_transcript(self, job_id: str) -> None:
        handler = self._handler
        if handler is None:
            raise RuntimeError("the queue was started without a handler")
        job = self.store.get(job_id)
        if job is None:
            return
        if job.status == "processing":
            # we hold the job's lock, so no one else is running it: an earlier attempt
            # died without putting it back (e.g. its process stopped mid-job)
            self.store.requeue(job_id)
        upload = job.upload_id if job.status in ("queued", "processing") else None
        if upload:
            self._hold_upload(upload)
        with self._tracked(TASK_TRANSCRIBE, job_id):
            try:
                handler(job_id)
            except Exception:
                self.store.requeue(job_id)  # runnable again for procrastinate's retry
                raise
            finally:
                if upload:
                    self._release_upload(upload)
        done = self.store.get(job_id)
        if done is not None and done.webhook_state == "pending":
            self.defer_webhook(job_id)

    @contextlib.contextmanager
    def _tracked(self, task_name: str, job_id: str) -> Iterator[None]:
        """Remember a running job, for :meth:`hand_back`."""
        with self._lock:
            self._running.add((task_name, job_id))
        try:
            yield
        finally:
            with self._lock:
                self._running.discard((task_name, job_id))

    def _hold_upload(self, upload_id: str) -> None:
        """Copy an upload from the database for a job (shared by this process's jobs)."""
        with self._uploads_lock:
            self._upload_users[upload_id] = self._upload_users.get(upload_id, 0) + 1
            try:
                self.store.materialize_upload(upload_id)
            except Exception:  # the pipeline then reports the missing upload
                log.exception("could not copy upload %s from the database", upload_id)

    def _release_upload(self, upload_id: str) -> None:
        with self._uploads_lock:
            left = self._upload_users.get(upload_id, 1) - 1
            if left > 0:
                self._upload_users[upload_id] = left
                return
            self._upload_users.pop(upload_id, None)
            self.store.evict_upload(upload_id)

    def _run_webhook(self, job_id: str) -> None:
        sender = self.webhooks
        if sender is None:
            raise RuntimeError("no webhook sender: build the queue with build_procrastinate()")
        with self._tracked(TASK_WEBHOOK, job_id):
            sender.deliver(job_id)
        job = self.store.get(job_id)
        if job is not None and job.webhook_state == "pending":
            self.defer_webhook(job_id)  # interrupted by a stop: continue elsewhere

    # -- workers and the sweeper ----------------------------------------------------

    async def _main(self, *, signals: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        opts = self.options
        threads = max(1, opts.workers) + max(1, opts.webhook_workers) + 2
        self._loop.set_default_executor(ThreadPoolExecutor(threads, "earmark-job"))
        if signals:
            self._install_signals()
        pause = 1.0
        async with self.app.open_async():
            while True:
                tasks = self._spawn_workers()
                self._ready.set()
                stopping = asyncio.create_task(self._stop.wait())
                done, _ = await asyncio.wait([*tasks, stopping], return_when="FIRST_COMPLETED")
                if self._stop.is_set():
                    sender = self.webhooks
                    if isinstance(sender, QueuedWebhooks):
                        sender.interrupt()  # retry waits end now; delivery resumes elsewhere
                for task in tasks:
                    task.cancel()  # graceful: running jobs finish (up to grace_s)
                await asyncio.gather(*tasks, return_exceptions=True)
                if self._stop.is_set():
                    break
                # a worker ended on its own: the database went away; start again after a pause
                stopping.cancel()
                for task in done:
                    error = None if task.cancelled() else task.exception()
                    why = " ".join(str(error).split()) or type(error).__name__
                    log.error("queue worker stopped (%s); restarting in %.0f s", why, pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), pause)
                if self._stop.is_set():
                    break
                pause = min(pause * 2, 30.0)
        self._loop = None

    def _spawn_workers(self) -> list[asyncio.Task[Any]]:
        """The transcript and webhook workers of this process, and the sweeper."""
        opts = self.options
        common: dict[str, Any] = {
            "install_signal_handlers": False,
            "update_heartbeat_interval": opts.heartbeat_s,
            "stalled_worker_timeout": opts.stalled_after_s,
            "fetch_job_polling_interval": opts.heartbeat_s,
            "abort_job_polling_interval": max(opts.heartbeat_s, 5.0),
            "delete_jobs": "successful",
        }
        runs = [
            (TRANSCRIPTS_QUEUE, max(1, opts.workers), "earmark-transcripts"),
            (WEBHOOKS_QUEUE, max(1, opts.webhook_workers), "earmark-webhooks"),
        ]
        tasks = [
            asyncio.create_task(
                self.app.run_worker_async(queues=[q], concurrency=n, name=name, **common)
            )
            for q, n, name in runs
        ]
        return [*tasks, asyncio.create_task(self._sweep_forever())]

    def _install_signals(self) -> None:
        loop, stop = self._loop, self._stop
        assert loop is not None and stop is not None

        def _on_signal(signum: int) -> None:
            name = signal.Signals(signum).name
            if stop.is_set():
                self._force_exit(f"second {name}", 128 + signum)
            log.warning(
                "%s: finishing running jobs, then exiting (send it again to exit now)", name
            )
            stop.set()
            if self.options.grace_s is not None:
                loop.call_later(self.options.grace_s, self._force_exit, "grace period over", 1)

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _on_signal, signum)

    def _force_exit(self, why: str, code: int) -> None:
        """Hand running jobs back to the queue and exit now (their threads cannot be
        interrupted)."""
        try:
            handed = self.hand_back()
        except Exception:  # exiting anyway: the sweeper of another worker recovers them
            log.exception("could not hand running jobs back")
            handed = []
        log.warning("%s: exiting now; handed back %d running job(s): %s", why, len(handed), handed)
        logging.shutdown()
        os._exit(code)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                retried = await asyncio.to_thread(self.sweep)
                if retried:
                    log.warning("re-queued %d job(s) of stalled workers: %s", len(retried), retried)
            except Exception:  # a database hiccup must not stop the worker
                log.exception("stalled-job sweep failed")
            await asyncio.sleep(self.options.heartbeat_s)

    def sweep(self) -> list[str]:
        """Retry the jobs of workers silent for ``stalled_after_s``; returns the transcript
        (or webhook) ids retried. One sweeper at a time (advisory lock), one transaction."""
        with self.store.connection() as conn, conn.transaction():
            if not recovery.try_sweep_lock(conn, self.store.schema):
                return []
            queues = [TRANSCRIPTS_QUEUE, WEBHOOKS_QUEUE]
            rows = recovery.stalled_jobs(conn, queues, self.options.stalled_after_s)
            return recovery.replace(conn, rows, TASK_TRANSCRIBE, self._defer)

    def hand_back(self) -> list[str]:
        """Give the jobs this process is running back to the queue at once (before a forced
        exit), so that other workers take them without waiting for the stall window."""
        with self._lock:
            keys = sorted(f"{task}:{job_id}" for task, job_id in self._running)
        if not keys:
            return []
        with self.store.connection() as conn, conn.transaction():
            rows = recovery.running_jobs(conn, keys)
            return recovery.replace(conn, rows, TASK_TRANSCRIBE, self._defer)


class QueuedWebhooks(WebhookSender):
    """Webhook delivery through the procrastinate queue, for every server and worker.

    :meth:`deliver` (inherited) runs inside a procrastinate job on some worker; the
    transcript job defers that job once the outcome is stored, so :meth:`submit` has
    nothing to do. :meth:`start` re-defers any webhook left pending (at most one job
    waits per transcript), which is harmless when one is already running.
    """

    def __init__(self, store: PostgresStore, options: WebhookOptions, queue: ProcrastinateQueue):
        super().__init__(store, options, threads=1)
        self.queue = queue
        queue.webhooks = self

    def start(self) -> None:
        for job_id in self.store.pending_webhooks():
            self.queue.defer_webhook(job_id)

    def submit(self, job_id: str) -> None:
        """No-op: the transcript job defers its webhook job itself (see the class doc)."""

    def interrupt(self) -> None:
        """End retry waits now (the job re-defers itself for another worker)."""
        self._stop.set()


def build_procrastinate(
    store: TranscriptStore, settings: ServerSettings, workers: int, webhooks: WebhookOptions
) -> tuple[ProcrastinateQueue, QueuedWebhooks]:
    """The queue and webhook sender of a server (or worker) on PostgreSQL.

    ``workers`` transcription jobs run in this process when ``settings.run_workers``;
    otherwise the process only enqueues (``earmark worker`` processes run the jobs).
    """
    if not isinstance(store, PostgresStore):
        raise InputError(
            "EARMARK_QUEUE=procrastinate needs PostgreSQL: set EARMARK_DATABASE_URL="
            "postgresql://user@host/dbname (or use EARMARK_QUEUE=local)"
        )
    queue = ProcrastinateQueue(
        store,
        ProcrastinateOptions(
            workers=workers if settings.run_workers else 0,
            stalled_after_s=settings.stalled_after_s,
        ),
    )
    return queue, QueuedWebhooks(store, webhooks, queue)

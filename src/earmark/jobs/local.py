"""The embedded job queue: a pool of worker threads in the server process.

Durability comes from the store, not from this queue: a job is stored (``queued``) before
it is enqueued, and :meth:`LocalQueue.start` re-enqueues every job a killed process left
``queued`` or ``processing``. This is only correct while one process owns the store,
which is the embedded (SQLite) setup; a multi-process deployment uses a real queue.
"""

from __future__ import annotations

import logging
import os
import queue
import threading

from earmark.jobs.base import JobHandler, JobQueue
from earmark.storage.base import TranscriptStore

__all__ = ["LocalQueue"]

log = logging.getLogger("earmark.jobs")


class LocalQueue(JobQueue):
    """``workers`` threads taking job ids from an in-memory FIFO."""

    def __init__(self, store: TranscriptStore, workers: int = 1, nice: int = 0) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.store = store
        self.workers = workers
        self.nice = nice
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._handler: JobHandler | None = None
        self._stopping = threading.Event()

    def start(self, handler: JobHandler) -> None:
        self._handler = handler
        recovered = self.store.requeue_interrupted()
        if recovered:
            log.info("recovered %d unfinished job(s)", len(recovered))
        for job_id in recovered:
            self._queue.put(job_id)
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"earmark-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def enqueue(self, job_id: str) -> None:
        self._queue.put(job_id)

    def pending(self) -> int:
        return self._queue.qsize()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout / max(1, len(self._threads)))
        self._threads = []

    def _work(self) -> None:
        _lower_priority(self.nice)
        while True:
            job_id = self._queue.get()
            handler = self._handler
            if job_id is None or handler is None or self._stopping.is_set():
                return  # jobs left in the FIFO stay queued in the store
            try:
                handler(job_id)
            except Exception:  # a bug in the handler must not kill the worker
                log.exception("job %s crashed its worker", job_id)


def _lower_priority(nice: int) -> None:
    """Raise this thread's nice value (Linux: per thread, inherited by threads it starts,
    such as CTranslate2's compute threads when the model loads here), so transcription
    yields the CPU to the API and keeps its latency low. Best effort."""
    if nice <= 0:
        return
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + nice))
    except (AttributeError, OSError) as exc:  # not Linux, or not permitted
        log.debug("cannot lower worker priority: %s", exc)

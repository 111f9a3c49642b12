"""The job-queue seam: hand a job id to a worker, at least once.

The store is the source of truth; a queue only carries job ids. Handlers take an id,
reload the job and store its outcome idempotently, so running a job twice is harmless.
The embedded queue is :class:`earmark.jobs.local.LocalQueue` (threads in this process);
a procrastinate-on-PostgreSQL queue implements the same three methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

__all__ = ["JobHandler", "JobQueue"]

JobHandler = Callable[[str], None]
"""Runs one job, given its id. Must not raise for job failures (it stores them)."""


class JobQueue(ABC):
    """Delivers job ids to a handler."""

    @abstractmethod
    def start(self, handler: JobHandler) -> None:
        """Start the workers, and recover jobs a previous process left unfinished."""

    @abstractmethod
    def enqueue(self, job_id: str) -> None:
        """Schedule a job that is already stored (call after the store commits)."""

    @abstractmethod
    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking jobs; wait up to ``timeout`` s for running ones. Unfinished jobs
        stay in the store and are recovered by the next :meth:`start`."""

    def pending(self) -> int:
        """Jobs waiting for a worker (best effort; for metrics)."""
        return 0

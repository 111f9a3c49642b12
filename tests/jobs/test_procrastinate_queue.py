"""The procrastinate queue on a real PostgreSQL: jobs run once, a SIGKILLed worker's job is
run again by another worker and stored once, SIGTERM lets a running job finish.

Worker processes run this file as a script (``python test_procrastinate_queue.py URL SCHEMA
MODE``) with a tiny handler, so the queue is tested without loading a model. This module
works in its own schema, dropped at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pg_helpers import drop_schema, new_schema, require_pg
from polling import wait_until

from earmark.jobs.procrastinate_queue import (
    TRANSCRIPTS_QUEUE,
    ProcrastinateOptions,
    ProcrastinateQueue,
)
from earmark.storage import JobRecord, JobResult, utc_now
from earmark.storage.postgres import PostgresOptions, PostgresStore
from earmark.types import Segment, Transcript

STALLED_AFTER_S = 2.0
pytestmark = pytest.mark.postgres


def _result(text: str) -> JobResult:
    t = Transcript(text, (Segment(0, 0, 1000, text),), "en", 1.0, 1000, model="fake")
    return JobResult(t, "fake")


def _handler(store: PostgresStore, mode: str) -> Callable[[str], None]:
    """Claim, record the run in ``runs``, then finish (``fast``), finish after 1.5 s
    (``slow``), or block until killed (``hang``)."""

    def handle(job_id: str) -> None:
        if store.claim(job_id) is None:
            return
        with store.connection() as conn:
            conn.execute("INSERT INTO runs (job_id, pid) VALUES (%s, %s)", (job_id, os.getpid()))
        if mode == "hang":
            threading.Event().wait()
        if mode == "slow":
            time.sleep(1.5)
        stored = store.finish(job_id, result=_result(f"done by {os.getpid()}"))
        with store.connection() as conn:
            conn.execute(
                "UPDATE runs SET stored = %s WHERE job_id = %s AND pid = %s",
                (stored, job_id, os.getpid()),
            )

    return handle


def _worker_main(url: str, schema: str, mode: str, grace: str = "") -> None:
    """A worker process: the real queue's foreground loop with the test handler."""
    store = PostgresStore(PostgresOptions(url, schema=schema))
    options = ProcrastinateOptions(
        stalled_after_s=STALLED_AFTER_S, grace_s=float(grace) if grace else None
    )
    queue = ProcrastinateQueue(store, options)
    queue.run(_handler(store, mode))
    store.close()


@pytest.fixture(scope="module")
def pg() -> Iterator[tuple[str, str]]:
    url = require_pg()
    schema = new_schema("t_queue")
    yield url, schema
    drop_schema(url, schema)


@pytest.fixture(scope="module")
def store(pg: tuple[str, str]) -> Iterator[PostgresStore]:
    opened = PostgresStore(PostgresOptions(pg[0], schema=pg[1]))
    with opened.connection() as conn:
        conn.execute(
            "CREATE TABLE runs (job_id TEXT, pid INTEGER, stored BOOLEAN, "
            "at TIMESTAMPTZ DEFAULT clock_timestamp())"
        )
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def queue(store: PostgresStore) -> ProcrastinateQueue:
    """The test process's queue: it only enqueues (its create hook defers in-transaction)."""
    return ProcrastinateQueue(store, ProcrastinateOptions(workers=0))


def _new_job(store: PostgresStore) -> JobRecord:
    job = JobRecord(str(uuid.uuid4()), "owner", "queued", utc_now(), "https://example.com/a")
    return store.create(job)


def _runs(store: PostgresStore, job_id: str) -> list[dict[str, Any]]:
    with store.connection() as conn:
        rows = conn.execute(
            "SELECT pid, stored FROM runs WHERE job_id = %s ORDER BY at", (job_id,)
        ).fetchall()
    return [dict(r) for r in rows]


def _status(store: PostgresStore, job_id: str) -> str:
    job = store.get(job_id)
    return job.status if job is not None else "missing"


def _spawn(pg: tuple[str, str], mode: str, log: Path, grace: str = "") -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, __file__, pg[0], pg[1], mode, grace],
            # the worker runs this file as a script: give it tests/ for pg_helpers
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _live_workers(store: PostgresStore) -> int:
    with store.connection() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM procrastinate_workers "
            "WHERE last_heartbeat > now() - make_interval(secs => %s)",
            (STALLED_AFTER_S,),
        ).fetchone()
    return int(row["n"]) if row else 0


def test_enqueue_runs_each_job_once(store: PostgresStore, queue: ProcrastinateQueue) -> None:
    worker = ProcrastinateQueue(store, ProcrastinateOptions(stalled_after_s=STALLED_AFTER_S))
    calls: list[str] = []
    handle = _handler(store, "fast")

    def counting(job_id: str) -> None:
        calls.append(job_id)
        handle(job_id)

    worker.start(counting)
    try:
        jobs = [_new_job(store) for _ in range(3)]
        for job in jobs:
            queue.enqueue(job.id)  # already deferred with the row: no second job
        for job in jobs:
            wait_until(
                f"{job.id} completed", lambda j=job: _status(store, j.id) == "completed", timeout=30
            )
        assert sorted(calls) == sorted(j.id for j in jobs)
        queue.enqueue(jobs[0].id)  # a late duplicate delivery is harmless
        wait_until("the duplicate to be consumed", lambda: queue.pending() == 0, timeout=30)
        wait_until("the duplicate to run", lambda: len(calls) == 4, timeout=30)
    finally:
        worker.stop(timeout=10)
    for job in jobs:
        assert _runs(store, job.id) == [{"pid": os.getpid(), "stored": True}]
        done = store.get(job.id)
        assert done is not None and done.attempts == 1


def test_a_run_that_finds_its_job_processing_takes_it_over(
    store: PostgresStore, queue: ProcrastinateQueue
) -> None:
    # an attempt died after claiming without anyone noticing (no stalled worker to sweep):
    # the next delivery holds the job's lock, so it knows no one else runs it
    worker = ProcrastinateQueue(store, ProcrastinateOptions(stalled_after_s=STALLED_AFTER_S))
    job = _new_job(store)
    assert store.claim(job.id) is not None
    worker.start(_handler(store, "fast"))
    try:
        wait_until("the job to complete", lambda: _status(store, job.id) == "completed", timeout=30)
    finally:
        worker.stop(timeout=10)
    done = store.get(job.id)
    assert done is not None and done.attempts == 2
    assert _runs(store, job.id) == [{"pid": os.getpid(), "stored": True}]


def test_stop_hands_back_a_job_still_running(
    store: PostgresStore, queue: ProcrastinateQueue
) -> None:
    # a server stopping with a long transcription in its in-process worker
    release = threading.Event()

    def slow(job_id: str) -> None:
        if store.claim(job_id) is not None:
            release.wait(30)
            store.finish(job_id, result=_result("too late"))

    worker = ProcrastinateQueue(store, ProcrastinateOptions(stalled_after_s=STALLED_AFTER_S))
    worker.start(slow)
    job = _new_job(store)
    try:
        wait_until("the claim", lambda: _status(store, job.id) == "processing", timeout=30)
        worker.stop(timeout=0.2)
        assert _status(store, job.id) == "queued"  # at once, for the next worker
    finally:
        release.set()
    wait_until("the old run to end", lambda: not worker._running, timeout=30)
    assert _status(store, job.id) == "queued"  # its late finish stored nothing
    rescuer = ProcrastinateQueue(store, ProcrastinateOptions(stalled_after_s=STALLED_AFTER_S))
    rescuer.start(_handler(store, "fast"))
    try:
        wait_until("the job to complete", lambda: _status(store, job.id) == "completed", timeout=30)
    finally:
        rescuer.stop(timeout=10)


def test_worker_recovers_from_database_errors(
    store: PostgresStore, queue: ProcrastinateQueue
) -> None:
    worker = ProcrastinateQueue(store, ProcrastinateOptions(stalled_after_s=STALLED_AFTER_S))
    worker.start(_handler(store, "fast"))
    try:
        wait_until("the worker to register", lambda: _live_workers(store) >= 2, timeout=30)
        with store.connection() as conn:  # its registration vanishes: its next fetch fails
            conn.execute("DELETE FROM procrastinate_workers")
        job = _new_job(store)
        wait_until("the job to complete", lambda: _status(store, job.id) == "completed", timeout=30)
    finally:
        worker.stop(timeout=10)
    assert _runs(store, job.id) == [{"pid": os.getpid(), "stored": True}]


def test_killed_worker_job_is_retried_and_stored_once(
    pg: tuple[str, str], store: PostgresStore, queue: ProcrastinateQueue, tmp_path: Path
) -> None:
    hanging = _spawn(pg, "hang", tmp_path / "a.log")
    rescuer: subprocess.Popen[bytes] | None = None
    try:
        job = _new_job(store)
        wait_until(
            "worker A to claim the job", lambda: _status(store, job.id) == "processing", timeout=30
        )
        before = _live_workers(store)
        rescuer = _spawn(pg, "fast", tmp_path / "b.log")
        wait_until("worker B to be ready", lambda: _live_workers(store) > before, timeout=30)
        hanging.send_signal(signal.SIGKILL)
        hanging.wait(10)
        killed_at = time.monotonic()
        wait_until("the job to complete", lambda: _status(store, job.id) == "completed", timeout=60)
        recovery = time.monotonic() - killed_at
    finally:
        for proc in (hanging, rescuer):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
    runs = _runs(store, job.id)
    assert [r["pid"] for r in runs] == [hanging.pid, rescuer.pid]
    assert [r["stored"] for r in runs] == [None, True]
    done = store.get(job.id)
    assert done is not None and done.attempts == 2
    assert done.result is not None and done.result.transcript.text == f"done by {rescuer.pid}"
    print(f"\nrecovery after SIGKILL: {recovery:.2f} s (stalled_after_s={STALLED_AFTER_S})")


def test_sigterm_finishes_the_running_job(
    pg: tuple[str, str], store: PostgresStore, queue: ProcrastinateQueue, tmp_path: Path
) -> None:
    proc = _spawn(pg, "slow", tmp_path / "slow.log")
    try:
        job = _new_job(store)
        wait_until(
            "the slow worker to claim", lambda: _status(store, job.id) == "processing", timeout=30
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, (tmp_path / "slow.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert _status(store, job.id) == "completed"
    assert _runs(store, job.id) == [{"pid": proc.pid, "stored": True}]
    with store.connection() as conn:  # it left the queue clean: nothing doing, nothing to do
        row = conn.execute(
            "SELECT count(*) AS n FROM procrastinate_jobs WHERE queue_name = %s "
            "AND status IN ('todo', 'doing') AND args->>'job_id' = %s",
            (TRANSCRIPTS_QUEUE, job.id),
        ).fetchone()
    assert row is not None and row["n"] == 0


def test_sigterm_past_the_grace_period_hands_the_job_back(
    pg: tuple[str, str], store: PostgresStore, queue: ProcrastinateQueue, tmp_path: Path
) -> None:
    stuck = _spawn(pg, "hang", tmp_path / "stuck.log", grace="0.5")
    rescuer: subprocess.Popen[bytes] | None = None
    try:
        job = _new_job(store)
        wait_until(
            "the stuck worker to claim", lambda: _status(store, job.id) == "processing", timeout=30
        )
        stuck.send_signal(signal.SIGTERM)
        assert stuck.wait(30) == 1, (tmp_path / "stuck.log").read_text()
        # handed back before exiting: queued again at once, no stall window to wait for
        assert _status(store, job.id) == "queued"
        rescuer = _spawn(pg, "fast", tmp_path / "rescuer.log")
        wait_until("the job to complete", lambda: _status(store, job.id) == "completed", timeout=30)
    finally:
        for proc in (stuck, rescuer):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert [r["pid"] for r in _runs(store, job.id)] == [stuck.pid, rescuer.pid]
    assert "handed back 1 running job" in (tmp_path / "stuck.log").read_text()


def test_worker_cli_help_and_missing_database(tmp_path: Path) -> None:
    from earmark.cli.worker import worker

    runner = CliRunner()
    shown = runner.invoke(worker, ["--help"])
    assert shown.exit_code == 0
    for words in ("--concurrency", "EARMARK_DATABASE_URL", "SIGTERM", "EARMARK_RUN_WORKERS"):
        assert words in shown.output
    env = {"EARMARK_DATABASE_URL": "", "EARMARK_DATA_DIR": str(tmp_path)}
    refused = runner.invoke(worker, [], env=env)
    assert refused.exit_code == 2 and "needs the shared PostgreSQL database" in refused.output


if __name__ == "__main__":
    _worker_main(*sys.argv[1:5])

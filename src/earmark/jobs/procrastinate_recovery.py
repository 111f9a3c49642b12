"""Putting jobs of dead or departing workers back on the procrastinate queue.

procrastinate records a heartbeat per worker but leaves re-running the jobs of a silent
one to the application. These statements do it on the store's connections, inside one
transaction: the old procrastinate job is closed, a fresh one is queued and, for a
transcription, the transcript goes back from ``processing`` to ``queued`` (so that the
next run can claim it). Written against procrastinate 3.10's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.rows import DictRow

__all__ = ["replace", "running_jobs", "stalled_jobs", "try_sweep_lock"]


def try_sweep_lock(conn: psycopg.Connection[DictRow], schema: str) -> bool:
    """Take the schema's sweep lock for this transaction, if no other sweeper holds it."""
    row = conn.execute(
        "SELECT pg_try_advisory_xact_lock(hashtext(%s)) AS ok", (f"earmark-sweep:{schema}",)
    ).fetchone()
    return bool(row and row["ok"])


def stalled_jobs(
    conn: psycopg.Connection[DictRow], queues: list[str], stalled_after_s: float
) -> list[DictRow]:
    """Running jobs whose worker is gone or silent for ``stalled_after_s`` (row-locked)."""
    return conn.execute(
        "SELECT j.id, j.queue_name, j.task_name, j.args FROM procrastinate_jobs j "
        "LEFT JOIN procrastinate_workers w ON w.id = j.worker_id "
        "WHERE j.status = 'doing' AND j.queue_name = ANY(%s) AND (w.id IS NULL "
        "OR w.last_heartbeat < now() - make_interval(secs => %s)) "
        "FOR UPDATE OF j SKIP LOCKED",
        (queues, stalled_after_s),
    ).fetchall()


def running_jobs(conn: psycopg.Connection[DictRow], keys: list[str]) -> list[DictRow]:
    """Running jobs named ``"<task>:<transcript id>"`` (row-locked)."""
    return conn.execute(
        "SELECT id, queue_name, task_name, args FROM procrastinate_jobs "
        "WHERE status = 'doing' AND (task_name || ':' || (args->>'job_id')) = ANY(%s) "
        "FOR UPDATE",
        (keys,),
    ).fetchall()


def replace(
    conn: psycopg.Connection[DictRow],
    rows: list[DictRow],
    transcribe_task: str,
    defer: Callable[[psycopg.Connection[DictRow], str, str], None],
) -> list[str]:
    """Close ``rows`` as failed and queue a fresh job for each (``defer(conn, task, id)``);
    transcripts of ``transcribe_task`` jobs go back to ``queued``. Returns their ids.

    A fresh job rather than a retry of the same row: if the old run is not dead after all
    (a stalled but living worker, a thread outliving its stopped server), its late
    "succeeded" would otherwise close (and delete) the re-queued row, and the transcript
    would wait forever. Closed rows make that late report fail harmlessly instead.
    """
    replaced: list[str] = []
    for row in rows:
        args: dict[str, Any] = row["args"] or {}
        job_id = str(args.get("job_id", ""))
        conn.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s AND status = 'doing'",
            (row["id"],),
        )
        if not job_id:
            continue
        if row["task_name"] == transcribe_task:
            conn.execute(
                "UPDATE transcripts SET status = 'queued' "
                "WHERE id = %s AND status = 'processing' AND NOT deleted",
                (job_id,),
            )
        defer(conn, str(row["task_name"]), job_id)  # its insert wakes idle workers
        replaced.append(job_id)
    return replaced

"""``earmark worker``: run transcription jobs from the PostgreSQL (procrastinate) queue."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import click

from earmark.config import Settings

__all__ = ["worker"]


@click.command("worker")
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="Transcriptions run at once by this process (default EARMARK_WORKERS; "
    "unset or 0 = one per 4 cores, at least 1). Each one gets cores / concurrency threads.",
)
@click.option(
    "--grace",
    "grace_s",
    type=click.FloatRange(min=0),
    default=None,
    help="On SIGTERM/SIGINT, wait at most this many seconds for running jobs "
    "(default: until they end). Jobs cut short are run again by another worker.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="This machine's folder for downloads and cached uploads (default EARMARK_DATA_DIR). "
    "Need not be shared with the servers.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
def worker(
    concurrency: int | None, grace_s: float | None, data_dir: Path | None, log_level: str
) -> None:
    """Run transcription jobs queued by 'earmark serve' on PostgreSQL.

    \b
    Start any number of these, on any machines that reach the database:
      export EARMARK_DATABASE_URL=postgresql://earmark@db.internal/earmark
      earmark worker --concurrency 2
    and run the servers with EARMARK_RUN_WORKERS=false so that they only take requests.

    Uses the same EARMARK_* settings as the server (database, schema, models,
    EARMARK_SPEECH_MODEL_MAP, webhooks). Uploaded files are read from the database,
    so workers need no shared filesystem. Delivery is at least once: a job whose worker
    dies (no heartbeat for EARMARK_STALLED_AFTER_S seconds) is run again by another
    worker, and its result and webhook are still stored and sent once.

    SIGTERM or SIGINT: stop taking jobs, finish the running ones (see --grace), exit.
    A second signal exits at once.
    """
    from earmark.jobs.procrastinate_queue import ProcrastinateQueue
    from earmark.server.services import build_services
    from earmark.storage import is_postgres_url

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    updates: dict[str, object] = {"queue": "procrastinate", "run_workers": True}
    if concurrency is not None:
        updates["workers"] = concurrency
    if data_dir is not None:
        updates["data_dir"] = data_dir
    settings.server = settings.server.model_copy(update=updates)
    if not is_postgres_url(settings.server.database_url):
        raise click.UsageError(
            "earmark worker needs the shared PostgreSQL database: set EARMARK_DATABASE_URL="
            "postgresql://user@host/dbname (the one the servers use)"
        )
    services = build_services(settings)
    queue = services.queue
    if not isinstance(queue, ProcrastinateQueue):  # pragma: no cover - forced above
        raise click.UsageError("the procrastinate queue could not be set up")
    queue.options = replace(queue.options, grace_s=grace_s)
    where = str(settings.server.database_url).split("@")[-1]
    click.echo(
        f"earmark worker: {queue.options.workers} transcription(s) at once | database "
        f"{where} schema {settings.server.database_schema} | default model "
        f"{settings.asr.asr_model} | stalled after {queue.options.stalled_after_s:g} s",
        err=True,
    )
    try:
        services.files.clean_tmp()
        services.webhooks.start()
        queue.run(services.pipeline.run)
    finally:
        services.webhooks.stop()
        services.store.close()
    click.echo("earmark worker: stopped", err=True)


if __name__ == "__main__":  # pragma: no cover - `python -m earmark.cli.worker`
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # as `earmark` itself does
    worker()

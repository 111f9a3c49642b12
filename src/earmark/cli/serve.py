"""``earmark serve``: run the AssemblyAI-compatible API with uvicorn."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

import click

from earmark.cli.model_check import missing_warning
from earmark.cli.term import styled
from earmark.config import Settings

__all__ = ["is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address) only ever means this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(i[4][0]).split("%", 1)[0]).is_loopback for i in infos
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Transcription workers (default EARMARK_WORKERS; 0 = one per 4 cores, at least 1).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="SQLite database, uploads and keys file (default EARMARK_DATA_DIR).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
def serve(host: str, port: int, workers: int | None, data_dir: Path | None, log_level: str) -> None:
    """Serve AssemblyAI's transcript API (v2) on HOST:PORT, backed by local models.

    \b
    Point any AssemblyAI SDK at it by changing only the base URL:
      aai.settings.base_url = "http://127.0.0.1:8000"           # Python
      new AssemblyAI({apiKey, baseUrl: "http://127.0.0.1:8000"}) // JS

    With no API keys configured (EARMARK_API_KEYS or 'earmark keys create') the API is
    open to anyone who can reach it, so the server then refuses any address other than
    loopback. Jobs survive restarts: unfinished ones resume when the server starts again.
    """
    import uvicorn

    from earmark.server.app import create_app
    from earmark.server.services import build_services

    settings = Settings()
    updates: dict[str, object] = {}
    if workers is not None:
        updates["workers"] = workers
    if data_dir is not None:
        updates["data_dir"] = data_dir
    if updates:
        settings.server = settings.server.model_copy(update=updates)
    services = build_services(settings)
    if not services.keys.configured() and not is_loopback(host):
        services.store.close()
        raise click.UsageError(
            f"refusing to serve on {host} with no API keys configured: anyone who can reach "
            "that address could use the API. Create a key with 'earmark keys create' (or set "
            "EARMARK_API_KEYS), or listen on 127.0.0.1."
        )
    auth = "API keys required" if services.keys.configured() else "open (no keys; loopback only)"
    workers_note = (
        f"{services.pipeline.config.workers} worker(s)"
        if settings.server.run_workers
        else "no workers here (EARMARK_RUN_WORKERS=false: run 'earmark worker')"
    )
    click.echo(
        f"earmark serve: http://{host}:{port} | {workers_note} | "
        f"default model {settings.asr.asr_model} | data {settings.server.data_dir} | auth: {auth}",
        err=True,
    )
    warning = missing_warning(_served_models(settings))
    if warning is not None:
        click.echo(styled(warning, sys.stderr, fg="yellow"), err=True)
    uvicorn.run(create_app(services), host=host, port=port, log_level=log_level)


def _served_models(settings: Settings) -> list[str]:
    """The models the server's defaults use: its ASR model, MiniLM (and MPNet when
    ``EARMARK_TAG_ENGINE=accurate``), and the bundled LLM when a route is local without a
    file of its own."""
    from earmark.asr.models import canonical_name
    from earmark.errors import EarmarkError
    from earmark.llm.router import Router

    asr = {"base": "whisper-base", "tiny.en": "whisper-tiny.en"}.get(
        canonical_name(settings.asr.asr_model)
    )
    keys = [*([asr] if asr else []), "minilm"]
    if settings.server.tag_engine == "accurate":  # EARMARK_TAG_ENGINE: every job's tags
        keys.append("mpnet")
    try:
        routes = Router.from_settings(settings.llm).all_routes
    except EarmarkError:  # a bad routes file is reported where it is used
        return keys
    bundled = settings.llm.local_model_path is None
    if bundled and any(r.provider == "local" and not _own_file(r.upstream_model) for r in routes):
        keys.append("smollm2")
    return keys


def _own_file(upstream: str | None) -> bool:
    return upstream is not None and upstream.lower() not in (
        "",
        "bundled",
        "default",
        "smollm2",
        "smollm2-135m-instruct",
    )


if __name__ == "__main__":  # pragma: no cover - `python -m earmark.cli.serve`
    serve()

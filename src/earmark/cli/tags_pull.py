"""``earmark tags pull NAME --server URL --key KEY``: a tag list saved in the web app, as
YAML on stdout (``GET /earmark/v1/tag-lists/{name}``). The ``tags`` group of
:mod:`earmark.cli.tags` with this command added."""

from __future__ import annotations

from urllib.parse import quote

import click

from earmark.cli.tags import tags_group

__all__ = ["pull_command", "tags_group"]


@tags_group.command("pull")
@click.argument("name")
@click.option("--server", required=True, envvar="EARMARK_SERVER", help="e.g. http://127.0.0.1:8000")
@click.option("--key", default="", envvar="EARMARK_API_KEY", help="an API key of that server")
def pull_command(name: str, server: str, key: str) -> None:
    """Print the saved tag list NAME of a server's web app as YAML."""
    import httpx

    url = f"{server.rstrip('/')}/earmark/v1/tag-lists/{quote(name, safe='')}"
    try:
        r = httpx.get(url, headers={"authorization": key} if key else {}, timeout=30.0)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach {server}: {exc}") from exc
    if r.status_code != 200:
        try:
            message = r.json().get("error", r.text)
        except ValueError:
            message = r.text
        raise click.ClickException(f"{r.status_code}: {message}")
    click.echo(r.json()["yaml"], nl=False)

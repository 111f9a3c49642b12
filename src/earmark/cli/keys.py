"""``earmark keys``: create, list and revoke the server's API keys."""

from __future__ import annotations

import click

from earmark.config import ServerSettings
from earmark.errors import EarmarkError
from earmark.storage.keys import KeysFile

__all__ = ["keys"]


def _keys_file() -> KeysFile:
    s = ServerSettings()
    return KeysFile(s.keys_file or s.data_dir / "keys.json")


@click.group("keys")
def keys() -> None:
    """Manage API keys for 'earmark serve' (stored hashed in <data_dir>/keys.json).

    Clients send a key as 'authorization: <key>' (AssemblyAI SDKs) or 'Bearer <key>'.
    Keys in EARMARK_API_KEYS are accepted too. Each key sees only its own transcripts.
    """


@keys.command("create")
@click.option("--name", default="", help="A label to recognise the key by.")
def create_command(name: str) -> None:
    """Create a key and print it. It is shown only this once."""
    kf = _keys_file()
    record, key = kf.create(name)
    click.echo(key)
    click.echo(
        f"created key {record.id}{f' ({name})' if name else ''} in {kf.path}; "
        "store it now, it cannot be shown again",
        err=True,
    )


@keys.command("list")
def list_command() -> None:
    """List keys (id, name, prefix, created, status); never the keys themselves."""
    kf = _keys_file()
    records = kf.load()
    if not records:
        click.echo(f"no keys in {kf.path}", err=True)
        return
    click.echo(f"{'ID':<13} {'PREFIX':<10} {'CREATED':<27} {'STATUS':<8} NAME")
    for k in records:
        status = "revoked" if k.revoked else "active"
        click.echo(f"{k.id:<13} {k.prefix + '…':<10} {k.created:<27} {status:<8} {k.name}")


@keys.command("revoke")
@click.argument("key_id")
def revoke_command(key_id: str) -> None:
    """Revoke a key by its id (from 'earmark keys list'). A running server stops accepting
    it at once; its transcripts become unreachable."""
    try:
        record = _keys_file().revoke(key_id)
    except EarmarkError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"revoked key {record.id}")

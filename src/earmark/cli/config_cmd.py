"""``earmark config``: print every setting, its environment variable and its value."""

from __future__ import annotations

import click
from pydantic_settings import BaseSettings

from earmark.config import Settings

__all__ = ["config_command"]


@click.command("config")
def config_command() -> None:
    """Show every setting with its EARMARK_* variable, current value and meaning."""
    settings = Settings()
    for group_name in type(settings).model_fields:
        group = getattr(settings, group_name)
        assert isinstance(group, BaseSettings)
        click.echo(click.style(f"[{group_name}] {type(group).__doc__ or ''}".rstrip(), bold=True))
        for name, field in type(group).model_fields.items():
            value = getattr(group, name)
            if "key" in name and value:
                value = "***"
            click.echo(f"  EARMARK_{name.upper()} = {value!s}")
            if field.description:
                click.echo(f"      {field.description}")

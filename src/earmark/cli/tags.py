"""``earmark tags``: look at tag lists."""

from __future__ import annotations

import click

from earmark.errors import EarmarkError

__all__ = ["tags_group"]


@click.group("tags")
def tags_group() -> None:
    """Show the built-in tag presets, or check a tag-list file."""


@tags_group.command("list")
def list_command() -> None:
    """List the built-in presets."""
    from earmark.tagging import load_tags, presets

    for name in presets():
        taglist = load_tags(name)
        click.echo(f"{name:<10} {len(taglist.tags):>3} tags: {', '.join(taglist.names)}")


@tags_group.command("show")
@click.argument("spec", metavar="PRESET_OR_FILE")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
def show_command(spec: str, fmt: str) -> None:
    """Print a preset (or validate and print a tag-list file) as YAML or JSON.

    The output is a valid tag-list file: save it, edit it, and pass it to --tags.
    """
    from earmark.tagging import load_tags
    from earmark.tagging.taglist import dump_tags

    try:
        click.echo(dump_tags(load_tags(spec), fmt=fmt), nl=False)
    except EarmarkError as exc:
        raise click.ClickException(str(exc)) from exc

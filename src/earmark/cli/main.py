"""The ``earmark`` command line."""

from __future__ import annotations

import os
from typing import ClassVar

import click

from earmark import __version__

__all__ = ["cli", "main"]


class _LazyGroup(click.Group):
    """Imports each subcommand only when it runs, so ``earmark --help`` starts instantly."""

    _commands: ClassVar[dict[str, tuple[str, str]]] = {
        "transcribe": ("earmark.cli.transcribe", "transcribe_command"),
        "tag": ("earmark.cli.tag", "tag_command"),
        "tags": ("earmark.cli.tags_pull", "tags_group"),  # tags.py + pull
        "eval": ("earmark.cli.evaluate", "eval_command"),
        "serve": ("earmark.cli.serve", "serve"),
        "keys": ("earmark.cli.keys", "keys"),
        "worker": ("earmark.cli.worker", "worker"),
        "config": ("earmark.cli.config_cmd", "config_command"),
        "models": ("earmark.cli.models_cmd", "models_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self._commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._commands.get(cmd_name)
        if target is None:
            return None
        import importlib

        try:
            module = importlib.import_module(target[0])
        except ModuleNotFoundError as exc:
            if exc.name != target[0]:
                raise
            return None
        command = getattr(module, target[1])
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="earmark")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """earmark: transcribe audio and video, and tag it with your own topics. Offline.

    \b
    Quick start:
      earmark tag examples/news_clip.mp3 --tags media
      earmark transcribe talk.mp4 --format srt
      earmark serve            # AssemblyAI-compatible API on http://127.0.0.1:8000
      earmark eval labelled.csv --tags support   # accuracy on your own data
      earmark models           # which models are installed, and how to add the rest

    Settings come from EARMARK_* environment variables; see 'earmark config'.
    Colour only on a terminal; NO_COLOR=1 turns it off there too.
    """
    if os.environ.get("NO_COLOR"):
        ctx.color = False


def main() -> None:
    # Models ship inside PyPI packages: never let a library reach for the model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cli(prog_name="earmark")

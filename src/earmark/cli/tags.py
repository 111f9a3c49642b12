"""``earmark tags``: look at tag lists, and teach them from corrections."""

from __future__ import annotations

from pathlib import Path

import click

from earmark.errors import EarmarkError

__all__ = ["tags_group"]


@click.group("tags")
def tags_group() -> None:
    """Show the built-in tag presets, check a tag-list file, or teach it from corrections."""


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


@tags_group.command("teach")
@click.argument("spec", metavar="PRESET_OR_FILE")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="errors.csv from 'earmark eval --report', or a CSV/JSONL with 'text' and the correct "
    "'label' (or 'gold').",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the taught tag list (YAML; .json writes JSON).",
)
@click.option(
    "--lexical",
    is_flag=True,
    help="Choose a long text's passages by shared words instead of the MiniLM tagger.",
)
def teach_command(spec: str, source: Path, output: Path, lexical: bool) -> None:
    """Turn corrections into examples of the right tag, and write the new tag list.

    Each row says which tag a text should have had; its text becomes an example of that
    tag (a text over 500 characters: its passages most about that tag, and least about the
    wrongly predicted one, up to 500 characters). Rows labelled none are skipped. Pass the
    written file to --tags.

    \b
    Example:
      earmark eval my_calls.csv --tags support --report eval_out/
      earmark tags teach support --from eval_out/errors.csv -o my_tags.yaml
      earmark eval my_calls.csv --tags my_tags.yaml
    """
    from earmark.tagging import load_tags
    from earmark.tagging.taglist import dump_tags
    from earmark.tagging.teach import load_corrections, tagger_relevance, teach_with_summary

    try:
        taglist = load_tags(spec)
        corrections = load_corrections(source)
        relevance = None
        if not lexical:
            from earmark.cli.model_check import require, tagger_requirement
            from earmark.cli.tag import load_tagger

            require("earmark tags teach", [tagger_requirement("embedding", None)])
            relevance = tagger_relevance(load_tagger("embedding", None), taglist)
        taught, summary = teach_with_summary(taglist, corrections, relevance=relevance)
        fmt = "json" if output.suffix.lower() == ".json" else "yaml"
        text = dump_tags(taught, fmt=fmt)
        load_tags(_parsed(text))  # what is written reads back
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, "utf-8")
    except EarmarkError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc}") from exc
    total = sum(summary.added.values())
    click.echo(f"{total} example{'s' if total != 1 else ''} added from {summary.corrections} rows:")
    for line in summary.lines():
        click.echo(line)
    click.echo(f"wrote {output}; use it with --tags {output}")


def _parsed(text: str) -> dict[str, object]:
    """What ``dump_tags`` wrote (YAML or JSON, which YAML reads too), parsed."""
    import yaml

    data: dict[str, object] = yaml.safe_load(text)
    return data

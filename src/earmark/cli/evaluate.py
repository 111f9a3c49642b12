"""``earmark eval``: measure tagging accuracy on your own labelled data."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from earmark.cli.model_check import require, tagger_requirement
from earmark.cli.tag import ENGINE_HELP, load_tagger
from earmark.errors import EarmarkError
from earmark.tagging import ENGINES
from earmark.tagging.base import TagOptions

__all__ = ["eval_command"]


@click.command("eval")
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tags", "-t", "tags_spec", required=True, help="Preset or tag-list file.")
@click.option(
    "--engine", type=click.Choice(ENGINES), default="embedding", show_default=True, help=ENGINE_HELP
)
@click.option("--model", "llm_model", default=None, help="With --engine llm: the model name.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None)
@click.option("--limit", type=click.IntRange(1), default=None, help="Use only the first N rows.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def eval_command(
    data: Path,
    tags_spec: str,
    engine: str,
    llm_model: str | None,
    threshold: float | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """Score a tagger on labelled examples: accuracy, macro-F1, per-tag numbers.

    DATA is a CSV with 'text' and 'label' columns, or JSONL with those keys. Labels must be
    tag names of the list; the label 'none' means no tag should be chosen.

    \b
    Example:
      earmark eval my_calls.csv --tags support
    """
    from earmark.tagging import load_tags
    from earmark.tagging.evaluate import evaluate, load_labelled

    try:
        taglist = load_tags(tags_spec)
        items = load_labelled(data)[:limit]
        require("earmark eval", [tagger_requirement(engine, llm_model)])
        tagger = load_tagger(engine, llm_model)
        report = evaluate(tagger, taglist, items, TagOptions(threshold=threshold))
    except EarmarkError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        fields = dataclasses.asdict(report)
        fields.pop("predictions", None)
        click.echo(json.dumps(fields, indent=2))
    else:
        click.echo(report.summary())

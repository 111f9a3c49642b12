"""``earmark eval``: measure tagging accuracy on your own labelled data."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from earmark.cli.model_check import asr_requirement, require, tagger_requirement
from earmark.cli.options import asr_options_prefixed, build_asr_options
from earmark.cli.tag import ENGINE_HELP, load_tagger
from earmark.config import Settings
from earmark.errors import EarmarkError
from earmark.tagging import ENGINES
from earmark.tagging.base import TagOptions
from earmark.tagging.evaluate import LabelledItem

__all__ = ["eval_command"]


@click.command("eval")
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--tags", "-t", "tags_spec", required=True, help="Preset or tag-list file.")
@click.option(
    "--engine", type=click.Choice(ENGINES), default="embedding", show_default=True, help=ENGINE_HELP
)
@click.option("--model", "llm_model", default=None, help="With --engine llm: the model name.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None)
@click.option("--limit", type=click.IntRange(1), default=None, help="Use only the first N rows.")
@click.option("--split", default=None, help="Use only rows whose 'split' field is this.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write metrics.json, errors.csv and PNG pictures into this folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@asr_options_prefixed
def eval_command(
    data: Path,
    tags_spec: str,
    engine: str,
    llm_model: str | None,
    threshold: float | None,
    limit: int | None,
    split: str | None,
    report_dir: Path | None,
    as_json: bool,
    **params: Any,
) -> None:
    """Score a tagger on labelled examples: accuracy, macro-F1, per-tag numbers, calibration.

    DATA is a CSV with 'text' and 'label' columns, or JSONL with those keys ('gold' is
    accepted for 'label'). Labels are tag names of the list; 'none', an empty label or
    null means no tag should be chosen. An optional 'also' lists accepted alternatives
    ('a|b' in CSV, a list in JSONL) for the lenient accuracy. Rows with 'file' (an audio
    or video path, relative to DATA) instead of 'text' are transcribed first; DATA may also
    be a folder of recordings with a labels.csv ('file,label') beside them.

    With --report DIR: DIR/metrics.json, DIR/errors.csv (the rows tagged wrong, which
    'earmark tags teach' turns into examples) and confusion.png, calibration.png,
    relevance.png, per_tag.png (need matplotlib: pip install 'earmark[report]').

    \b
    Examples:
      earmark eval my_calls.csv --tags support
      earmark eval my_calls.csv --tags support --report eval_out/
      earmark eval recordings/ --tags my_tags.yaml --report eval_out/
    """
    from earmark.tagging import load_tags
    from earmark.tagging.evaluate import evaluate, load_labelled

    settings = Settings()
    try:
        taglist = load_tags(tags_spec)
        items = load_labelled(data)
        if split is not None:
            items = [i for i in items if i.split == split]
        items = items[:limit]
        needed = [tagger_requirement(engine, llm_model)]
        audio = [i for i in items if i.file is not None]
        asr = build_asr_options(settings, params)
        if audio:
            needed.append(asr_requirement(asr.model, settings.asr.cache_dir))
        require("earmark eval", needed)
        if audio:
            items = _transcribe(items, asr, settings)
        tagger = load_tagger(engine, llm_model)
        report = evaluate(tagger, taglist, items, TagOptions(threshold=threshold))
        written = None
        if report_dir is not None:
            from earmark.tagging.report import write_report

            written = write_report(report, report_dir)
    except EarmarkError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.metrics(), indent=2))
    else:
        click.echo(report.summary())
    if written is not None:
        stream_err = as_json  # keep stdout pure JSON
        click.echo(f"report written to {report_dir}:", err=stream_err)
        for path in written.paths:
            click.echo(f"  {path}", err=stream_err)
        if written.skipped:
            click.echo(written.skipped, err=True)


def _transcribe(items: list[LabelledItem], asr: Any, settings: Settings) -> list[LabelledItem]:
    """Transcribe the audio rows (a progress bar over files on a terminal)."""
    import dataclasses

    from tqdm import tqdm

    from earmark import api

    todo = sum(1 for i in items if i.file is not None)
    out: list[LabelledItem] = []
    with tqdm(
        total=todo,
        desc="transcribing",
        unit="file",
        file=sys.stderr,
        disable=not sys.stderr.isatty(),
    ) as bar:
        for item in items:
            if item.file is None:
                out.append(item)
                continue
            bar.set_postfix_str(item.file.name[-30:], refresh=False)
            transcript = api.transcribe(item.file, asr, settings=settings)
            out.append(dataclasses.replace(item, text=transcript.text, transcript=transcript))
            bar.update(1)
    return out

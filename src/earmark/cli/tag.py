"""``earmark tag``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from earmark.api import TEXT_SUFFIXES, read_text_file
from earmark.cli.batch import BatchOptions, FileProgress, run_and_exit
from earmark.cli.conversation import (
    apply_conversation,
    conversation_options,
    redact_request,
    speaker_request,
)
from earmark.cli.inputs import MEDIA_SUFFIXES, InputFile, expand_inputs
from earmark.cli.model_check import asr_requirement, require, tagger_requirement
from earmark.cli.options import asr_options_prefixed, build_asr_options, output_options
from earmark.cli.render import (
    TaggedItem,
    csv_line,
    tag_csv_header,
    tag_csv_row,
    tag_record,
    tag_text,
)
from earmark.cli.term import wrap_width
from earmark.config import Settings
from earmark.errors import EarmarkError, InputError
from earmark.tagging import ENGINES
from earmark.tagging.base import Tagger, TagOptions
from earmark.types import Transcript

__all__ = ["ENGINE_HELP", "load_tagger", "tag_command"]

ENGINE_HELP = (
    "embedding: offline MiniLM tagger; static: about 9x faster per call end to end, less "
    "accurate (model2vec-style table distilled once from MiniLM, ~1 min the first time); "
    "accurate: all-mpnet-base-v2, about 5x slower than embedding, better on spoken calls "
    "(make install-accurate); llm: ask an LLM (see --model and EARMARK_LLM_ROUTES)."
)


def load_tagger(engine: str, model: str | None, quiet: bool = False) -> Tagger:
    """``get_tagger``, telling stderr while the static table is distilled (first use only)."""
    from tqdm import tqdm

    from earmark.tagging import get_tagger

    bar: list[tqdm[Any]] = []

    def progress(done: int, total: int) -> None:
        if quiet:
            return
        if not bar:
            click.echo("building the static tagging table once (about a minute)...", err=True)
            bar.append(
                tqdm(
                    total=total,
                    desc="static table",
                    unit="piece",
                    leave=False,
                    file=sys.stderr,
                    disable=not sys.stderr.isatty(),
                )
            )
        bar[0].n = done
        bar[0].refresh()

    try:
        return get_tagger(engine, model=model, progress=progress)
    finally:
        if bar:
            bar[0].close()


EXTENSIONS = {"text": ".tags.txt", "json": ".json", "jsonl": ".jsonl", "csv": ".csv"}


@click.command("tag")
@click.argument("inputs", nargs=-1, metavar="FILE_OR_DIR...")
@click.option(
    "--tags",
    "-t",
    "tags_spec",
    default="media",
    show_default=True,
    help="Tag list: a preset ('media', 'support'; see 'earmark tags list') or a JSON/YAML "
    "file of tag name -> description (optionally with examples).",
)
@click.option("--text", "texts", multiple=True, help="Tag this text (repeatable) instead of files.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json", "jsonl", "csv"]),
    default="text",
    show_default=True,
    help="text: a readable summary; json: full result per file; jsonl: one JSON line per "
    "file; csv: one row per file.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="embedding",
    show_default=True,
    help=ENGINE_HELP,
)
@click.option(
    "--model", "llm_model", default=None, help="With --engine llm: the model name to route."
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Relevance a tag needs to be selected; no tag over it = 'none of these fits'. "
    "Default: the engine's calibrated threshold.",
)
@click.option(
    "--window-seconds",
    type=click.IntRange(5, 3600),
    default=30,
    show_default=True,
    help="Length of the time windows tagged separately.",
)
@click.option("--no-text", is_flag=True, help="text format: don't print the transcript.")
@asr_options_prefixed
@conversation_options
@output_options
def tag_command(
    inputs: tuple[str, ...],
    tags_spec: str,
    texts: tuple[str, ...],
    fmt: str,
    engine: str,
    llm_model: str | None,
    threshold: float | None,
    window_seconds: int,
    no_text: bool,
    **params: Any,
) -> None:
    """Tag recordings or transcripts with your topic tags.

    FILE_OR_DIR can be audio/video (transcribed first), plain-text transcripts (.txt), or
    folders of either (searched recursively); '-' reads text from standard input. Each
    result has the best tag (or none when nothing fits), every tag ranked by relevance
    (0..1), the tags over the threshold, and tags per time window.

    Every model the run needs (the tagger's, and Whisper's when an input is a recording) is
    checked before any work starts; 'earmark models' lists them and how to install them.
    The text format prints the transcript one line per segment, wrapped to the terminal's
    width on a terminal and never in a pipe or a file (as 'earmark transcribe' does).

    \b
    Examples:
      earmark tag episode.mp3 --tags media
      earmark tag calls/ --tags support --format csv -o results/
      earmark tag notes.txt --tags my_tags.yaml --format json
      earmark tag --text "The striker scored twice" --tags media
    """
    from earmark import api
    from earmark.tagging import load_tags

    if not inputs and not texts:
        raise click.UsageError("give files or folders to tag, '-' for standard input, or --text")
    settings = Settings()
    try:
        taglist = load_tags(tags_spec)
    except EarmarkError as exc:
        raise click.ClickException(str(exc)) from exc
    asr = build_asr_options(settings, params)
    speakers, redact = speaker_request(params), redact_request(params)
    options = TagOptions(threshold=threshold, window_ms=window_seconds * 1000)
    to_stdout = params["output_dir"] is None
    width = wrap_width() if to_stdout else None

    files = expand_inputs(inputs, MEDIA_SUFFIXES | TEXT_SUFFIXES)
    items = [InputFile.from_text(f"text-{i + 1}", t) for i, t in enumerate(texts)]
    if any(str(f.path) == "-" for f in files):
        files = [f for f in files if str(f.path) != "-"]
        items.append(InputFile.from_text("stdin", sys.stdin.read()))
    items.extend(files)
    try:  # every model the run needs, before any work (files only: nothing is loaded)
        needed = [tagger_requirement(engine, llm_model)]
        if any(_is_media(item) for item in items):
            needed.append(asr_requirement(asr.model, settings.asr.cache_dir))
        require("earmark tag", needed)
        tagger = load_tagger(engine, llm_model, quiet=params["quiet"])
    except EarmarkError as exc:
        raise click.ClickException(str(exc)) from exc
    collected: list[dict[str, Any]] = []
    multi = len(items) > 1

    def process(item: InputFile, progress: FileProgress) -> str:
        name = str(item.path)
        transcript: Transcript | None = None
        if item.literal is not None:
            text = item.literal.strip()
            if not text:
                raise InputError(f"{name}: nothing to tag (empty text)")
        elif item.path.suffix.lower() in TEXT_SUFFIXES:
            text = read_text_file(item.path)
        else:
            transcript = api.transcribe(item.path, asr, on_progress=progress, settings=settings)
            transcript = apply_conversation(
                api.runtime(settings), item.path, transcript, speakers, redact
            )
            text = transcript.text
        subject: Transcript | str = text
        if transcript is not None:  # other languages are tagged through Whisper's English
            subject = api.runtime(settings).english_for_tagging(item.path, transcript, asr)
        result = tagger.tag(subject, taglist, options)
        tagged = TaggedItem(file=name, text=text, transcript=transcript, result=result)
        return _render(tagged, fmt, to_stdout, multi, collected, no_text, width)

    if fmt == "csv" and to_stdout:
        click.echo(csv_line(tag_csv_header()), nl=False)
    run_and_exit(items, BatchOptions.from_params(params, EXTENSIONS[fmt]), process, collected)


def _render(
    tagged: TaggedItem,
    fmt: str,
    to_stdout: bool,
    multi: bool,
    collected: list[dict[str, Any]],
    no_text: bool,
    width: int | None,
) -> str:
    if fmt == "json":
        if to_stdout and multi:
            collected.append(tag_record(tagged))
            return ""
        return json.dumps(tag_record(tagged), ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return json.dumps(tag_record(tagged), ensure_ascii=False) + "\n"
    if fmt == "csv":
        row = csv_line(tag_csv_row(tagged))
        return row if to_stdout else csv_line(tag_csv_header()) + row
    return tag_text(tagged, show_text=not no_text, width=width) + "\n"


def _is_media(item: InputFile) -> bool:
    """Whether ``item`` is transcribed first (anything but literal text and text files)."""
    return item.literal is None and item.path.suffix.lower() not in TEXT_SUFFIXES

"""``earmark transcribe``."""

from __future__ import annotations

import json
from typing import Any

import click

from earmark.cli.batch import BatchOptions, FileProgress, run_and_exit
from earmark.cli.conversation import (
    apply_conversation,
    conversation_options,
    redact_request,
    speaker_request,
)
from earmark.cli.inputs import MEDIA_SUFFIXES, InputFile, expand_inputs
from earmark.cli.model_check import asr_requirement, require
from earmark.cli.options import asr_options, build_asr_options, output_options
from earmark.cli.render import transcript_record
from earmark.cli.term import wrap_lines, wrap_width
from earmark.config import Settings
from earmark.errors import EarmarkError

__all__ = ["transcribe_command"]

EXTENSIONS = {"text": ".txt", "json": ".json", "srt": ".srt", "vtt": ".vtt"}


@click.command("transcribe")
@click.argument("inputs", nargs=-1, required=True, metavar="FILE_OR_DIR...")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(sorted(EXTENSIONS)),
    default="text",
    show_default=True,
    help="text: the transcript; json: text, language, segments and words with ms times; "
    "srt/vtt: subtitles.",
)
@click.option(
    "--chars-per-caption",
    type=click.IntRange(8, 500),
    default=None,
    help="srt/vtt: longest caption.",
)
@asr_options
@conversation_options
@output_options
def transcribe_command(
    inputs: tuple[str, ...], fmt: str, chars_per_caption: int | None, **params: Any
) -> None:
    """Transcribe audio and video files (wav, flac, mp3, m4a, ogg, opus, webm, mp4, mkv, mov...).

    Folders are searched recursively for media files. Runs offline with the embedded Whisper
    models (checked before any file is read; 'earmark models' lists them). A file that fails
    is reported and the others go on; the exit status is 1 if any file failed.

    The text format prints one line per segment; on a terminal long lines are wrapped to
    its width, in a pipe or a file they never are (the same rule as 'earmark tag').

    \b
    Examples:
      earmark transcribe episode.mp3
      earmark transcribe call.wav --fast --format srt
      earmark transcribe ./recordings -o ./transcripts --format json
      earmark transcribe call.wav --speaker-labels --redact-pii all
      earmark transcribe stereo_call.wav --multichannel --format json
    """
    from earmark import api
    from earmark.export import to_srt, to_text, to_vtt

    settings = Settings()
    asr = build_asr_options(settings, params)
    speakers, redact = speaker_request(params), redact_request(params)
    try:  # the ASR model's files are there (nothing is loaded yet)
        require("earmark transcribe", [asr_requirement(asr.model, settings.asr.cache_dir)])
    except EarmarkError as exc:
        raise click.ClickException(str(exc)) from exc
    files = expand_inputs(inputs, MEDIA_SUFFIXES)
    to_stdout = params["output_dir"] is None
    width = wrap_width() if to_stdout else None
    collected: list[dict[str, Any]] = []

    def process(item: InputFile, progress: FileProgress) -> str:
        t = api.transcribe(item.path, asr, on_progress=progress, settings=settings)
        t = apply_conversation(api.runtime(settings), item.path, t, speakers, redact)
        if fmt == "json":
            record = transcript_record(str(item.path), t)
            if to_stdout and len(files) > 1:
                collected.append(record)
                return ""
            return json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        if fmt == "srt":
            return to_srt(t, chars_per_caption)
        if fmt == "vtt":
            return to_vtt(t, chars_per_caption)
        text = wrap_lines(to_text(t), width)
        return f"== {item.path}\n{text}\n" if to_stdout and len(files) > 1 else text + "\n"

    run_and_exit(files, BatchOptions.from_params(params, EXTENSIONS[fmt]), process, collected)

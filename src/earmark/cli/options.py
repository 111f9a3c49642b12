"""Click options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from earmark.asr.base import ASROptions, Device
from earmark.config import Settings

__all__ = ["asr_options", "asr_options_prefixed", "build_asr_options", "output_options"]

F = TypeVar("F", bound=Callable[..., Any])


def asr_options(func: F) -> F:
    """Add the speech-recognition options to a command (``--model`` names the ASR model)."""
    return _asr_options(func, ("--model", "-m"))


def asr_options_prefixed(func: F) -> F:
    """The same, for commands whose ``--model`` means something else (``--asr-model``)."""
    return _asr_options(func, ("--asr-model",))


def _asr_options(func: F, model_flags: tuple[str, ...]) -> F:
    decorators = [
        click.option(
            *model_flags,
            "asr_model",
            default=None,
            help="ASR model: 'base' (embedded, multilingual; default), 'tiny.en' (embedded, "
            "fast, English), a faster-whisper model folder, or a hub name (needs internet). "
            "[env: EARMARK_ASR_MODEL]",
        ),
        click.option(
            "--fast", is_flag=True, help="Fast ASR: the embedded tiny.en model, greedy decoding."
        ),
        click.option(
            "--language",
            "-l",
            default=None,
            help="Spoken language code (e.g. en, de); default: detect.",
        ),
        click.option("--vad/--no-vad", default=None, help="Skip silence with Silero VAD first."),
        click.option(
            "--beam-size",
            type=click.IntRange(1, 20),
            default=None,
            help="Beam size (default 2; 1 = greedy, fastest; 5 = Whisper's default).",
        ),
        click.option(
            "--device",
            type=click.Choice(["auto", "cpu", "cuda"]),
            default=None,
            help="Where to run ASR (default auto: CUDA when a GPU is present).",
        ),
        click.option(
            "--threads",
            type=click.IntRange(0, 256),
            default=None,
            help="CPU threads (0 = one per core).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def build_asr_options(settings: Settings, params: dict[str, Any]) -> ASROptions:
    """Merge command-line values over the settings."""
    s = settings.asr
    model = params.get("asr_model") or s.asr_model
    beam = params.get("beam_size") or s.asr_beam_size
    if params.get("fast"):
        model = params.get("asr_model") or "tiny.en"
        beam = params.get("beam_size") or 1
    vad = params.get("vad")
    device = _DEVICES.get(params.get("device") or s.asr_device)
    if device is None:
        raise click.BadParameter("device must be auto, cpu or cuda (EARMARK_ASR_DEVICE)")
    threads = params.get("threads")
    return ASROptions(
        model=model,
        device=device,
        compute_type=s.asr_compute_type,
        threads=int(threads) if threads is not None else s.asr_threads,
        language=params.get("language"),
        vad=s.asr_vad if vad is None else bool(vad),
        beam_size=beam,
        multichannel=bool(params.get("multichannel")),
        multilingual=bool(params.get("detect_languages")),
    )


_DEVICES: dict[str, Device] = {"auto": "auto", "cpu": "cpu", "cuda": "cuda"}


def output_options(func: F) -> F:
    """Add --output-dir / --overwrite / --quiet."""
    decorators = [
        click.option(
            "--output-dir",
            "-o",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Write one output file per input here (mirroring folders) instead of printing. "
            "Inputs whose output already exists are skipped, so an interrupted run resumes.",
        ),
        click.option(
            "--overwrite", is_flag=True, help="With --output-dir: redo files already done."
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func

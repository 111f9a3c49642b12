"""The small public Python API: :func:`transcribe` and :func:`tag`.

The CLI and the server run exactly this code. Models load on first use and are cached
per process, so calling these in a loop is cheap after the first call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from earmark.asr.base import ASROptions
from earmark.config import Settings
from earmark.errors import InputError, MediaNotFoundError
from earmark.tagging.base import TagOptions
from earmark.types import Segment, TagList, TagResult, Transcript

__all__ = ["TEXT_SUFFIXES", "tag", "transcribe"]

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md"})
"""Files with these suffixes are read as plain-text transcripts, not decoded as media."""

TagSpec = str | Path | Mapping[str, object] | TagList


def transcribe(
    source: str | Path | bytes,
    options: ASROptions | None = None,
    *,
    on_segment: Callable[[Segment], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    settings: Settings | None = None,
) -> Transcript:
    """Transcribe an audio or video file (a path, or its bytes).

    ``options`` default to the settings (``EARMARK_ASR_*``): embedded Whisper base, int8 on
    CPU, float16 on CUDA. ``on_segment`` is called as each segment is decoded, and
    ``on_progress(done_ms, total_ms)`` after it, for progress bars.
    Raises :class:`earmark.errors.MediaError` subclasses for unreadable media.
    """
    from earmark.asr import get_engine
    from earmark.audio.decode import decode_audio

    settings = settings or Settings()
    opts = options or default_asr_options(settings)
    audio = decode_audio(source, start_ms=opts.start_ms, end_ms=opts.end_ms)
    engine = get_engine(
        opts.model,
        device=opts.device,
        compute_type=opts.compute_type,
        threads=opts.threads,
        cache_dir=settings.asr.cache_dir,
    )
    if on_progress is None:
        return engine.transcribe(audio, opts, on_segment=on_segment)
    total_ms = audio.duration_ms
    report = on_progress

    def _segment_done(segment: Segment) -> None:
        if on_segment is not None:
            on_segment(segment)
        report(min(segment.end_ms, total_ms), total_ms)

    transcript = engine.transcribe(audio, opts, on_segment=_segment_done)
    report(total_ms, total_ms)
    return transcript


def default_asr_options(settings: Settings | None = None) -> ASROptions:
    """ASR options from the settings (``EARMARK_ASR_MODEL`` and friends)."""
    s = (settings or Settings()).asr
    return ASROptions(
        model=s.asr_model,
        device=s.asr_device,
        compute_type=s.asr_compute_type,
        threads=s.asr_threads,
        beam_size=s.asr_beam_size,
        vad=s.asr_vad,
    )


def tag(
    item: str | Path | Transcript,
    tags: TagSpec,
    options: TagOptions | None = None,
    *,
    engine: str = "embedding",
    model: str | None = None,
    asr_options: ASROptions | None = None,
    settings: Settings | None = None,
) -> TagResult:
    """Tag a transcript, a media file, a ``.txt`` file, or a text string.

    ``tags`` is a preset name (``"media"``, ``"support"``), a JSON/YAML file, a mapping of
    tag name -> description, or a :class:`TagList`. A ``str`` that names an existing file
    is read as that file; any other ``str`` is the text to tag.
    """
    from earmark.tagging import get_tagger, load_tags

    taglist = load_tags(tags)
    subject: Transcript | str
    if isinstance(item, Transcript):
        subject = item
    else:
        path = item if isinstance(item, Path) else _as_existing_path(item)
        if path is None:
            subject = str(item)
        elif path.suffix.lower() in TEXT_SUFFIXES:
            subject = read_text_file(path)
        else:
            subject = transcribe(path, asr_options, settings=settings)
    return get_tagger(engine, model=model).tag(subject, taglist, options)


def read_text_file(path: Path) -> str:
    """Read a plain-text transcript, with clear errors for missing or empty files."""
    if not path.exists():
        raise MediaNotFoundError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    if not text:
        raise InputError(f"{path}: the text file is empty")
    return text


def _as_existing_path(item: str) -> Path | None:
    if "\n" in item or len(item) > 4096:
        return None
    try:
        path = Path(item)
        return path if path.is_file() else None
    except OSError:
        return None

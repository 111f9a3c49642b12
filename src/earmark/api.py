"""The small public Python API: :func:`transcribe` and :func:`tag`.

The CLI runs exactly this code, and the server's pipeline the same
:meth:`earmark.runtime.Runtime.transcribe`. Models load on first use and are kept by the
runtime, so calling these in a loop is cheap after the first call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from earmark.asr.base import ASROptions
from earmark.config import Settings
from earmark.errors import InputError, MediaNotFoundError
from earmark.runtime import Runtime, default_asr_options
from earmark.tagging.base import TagOptions
from earmark.types import Segment, TagList, TagResult, Transcript

__all__ = ["TEXT_SUFFIXES", "default_asr_options", "runtime", "tag", "transcribe"]

_runtimes: dict[str, Runtime] = {}
_runtimes_lock = threading.Lock()

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md"})
"""Files with these suffixes are read as plain-text transcripts, not decoded as media."""

TagSpec = str | Path | Mapping[str, object] | TagList


def runtime(settings: Settings | None = None) -> Runtime:
    """The library's :class:`~earmark.runtime.Runtime` for ``settings`` (default: from the
    environment), built once per distinct settings and then reused."""
    key = (settings or Settings()).model_dump_json()
    with _runtimes_lock:
        found = _runtimes.get(key)
        if found is None:
            if settings is None:  # share the pools behind get_engine() and get_tagger()
                from earmark import asr, tagging

                found = Runtime(engines=asr.default_pool(), taggers=tagging.default_pool())
            else:
                found = Runtime(settings)
            _runtimes[key] = found
        return found


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
    return runtime(settings).transcribe(
        source, options, on_segment=on_segment, on_progress=on_progress
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
    from earmark.tagging import load_tags

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
            heard = transcribe(path, asr_options, settings=settings)
            subject = runtime(settings).english_for_tagging(path, heard, asr_options)
    return runtime(settings).taggers.get(engine, model).tag(subject, taglist, options)


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

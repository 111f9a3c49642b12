"""Speech to text: the :class:`ASREngine` seam and its faster-whisper implementation.

Use :func:`get_engine` to get a loaded engine; it is cached per (model, device,
compute type, threads, workers, cache dir), because loading a model is expensive, and
engines are safe to share between threads::

    from earmark.asr import ASROptions, get_engine
    from earmark.audio import decode_audio

    engine = get_engine("tiny.en")
    transcript = engine.transcribe(decode_audio("talk.mp3"), ASROptions(model="tiny.en"))
"""

from __future__ import annotations

import threading
from pathlib import Path

from earmark.asr.base import ASREngine, ASROptions, Device, TranscriptionInfo, collect
from earmark.asr.faster_whisper import (
    EngineOptions,
    FasterWhisperEngine,
    select_compute_type,
    select_device,
    select_threads,
)
from earmark.asr.models import EMBEDDED_MODELS, available_models, canonical_name, resolve_model

__all__ = [
    "EMBEDDED_MODELS",
    "ASREngine",
    "ASROptions",
    "EngineOptions",
    "FasterWhisperEngine",
    "TranscriptionInfo",
    "available_models",
    "clear_engines",
    "collect",
    "get_engine",
    "resolve_model",
]

_EngineKey = tuple[str, str, str, int, int, str]

_ENGINES: dict[_EngineKey, ASREngine] = {}
_KEY_LOCKS: dict[_EngineKey, threading.Lock] = {}
_LOCK = threading.Lock()


def get_engine(
    model: str = "base",
    *,
    device: Device = "auto",
    compute_type: str = "auto",
    threads: int = 0,
    cache_dir: Path | None = None,
    workers: int = 1,
) -> ASREngine:
    """A loaded engine for ``model``, built once per process and then reused.

    Raises :class:`earmark.errors.ModelError` when the model cannot be found or loaded.
    Two threads asking for the same engine at once load it only once; different engines
    load in parallel.
    """
    resolved_device = select_device(device)
    options = EngineOptions(
        model=canonical_name(model),
        device=resolved_device,  # type: ignore[arg-type]
        compute_type=select_compute_type(compute_type, resolved_device),
        threads=select_threads(threads),
        workers=max(1, workers),
        cache_dir=Path(cache_dir) if cache_dir is not None else None,
    )
    key: _EngineKey = (
        options.model,
        options.device,
        options.compute_type,
        options.threads,
        options.workers,
        str(options.cache_dir or ""),
    )
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is not None:
            return engine
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = FasterWhisperEngine(options)
            with _LOCK:
                _ENGINES[key] = engine
    return engine


def clear_engines() -> None:
    """Forget every cached engine (their memory is freed once no caller holds them)."""
    with _LOCK:
        _ENGINES.clear()
        _KEY_LOCKS.clear()

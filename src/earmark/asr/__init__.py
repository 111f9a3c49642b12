"""Speech to text: the :class:`ASREngine` seam and its faster-whisper implementation.

Use :func:`get_engine` to get a loaded engine from the library's default
:class:`EnginePool`, which keeps one per (model, device, compute type, threads, workers,
cache dir), because loading a model is expensive, and engines are safe to share between
threads::

    from earmark.asr import ASROptions, get_engine
    from earmark.audio import decode_audio

    engine = get_engine("tiny.en")
    transcript = engine.transcribe(decode_audio("talk.mp3"), ASROptions(model="tiny.en"))
"""

from __future__ import annotations

from pathlib import Path

from earmark._lazy import Lazy
from earmark.asr.base import ASREngine, ASROptions, Device, TranscriptionInfo, collect
from earmark.asr.faster_whisper import EngineOptions, FasterWhisperEngine
from earmark.asr.models import EMBEDDED_MODELS, available_models, resolve_model
from earmark.asr.registry import EnginePool, engine_names, register_engine

__all__ = [
    "EMBEDDED_MODELS",
    "ASREngine",
    "ASROptions",
    "EngineOptions",
    "EnginePool",
    "FasterWhisperEngine",
    "TranscriptionInfo",
    "available_models",
    "clear_engines",
    "collect",
    "default_pool",
    "engine_names",
    "get_engine",
    "register_engine",
    "resolve_model",
]

_default: Lazy[EnginePool] = Lazy(EnginePool)


def default_pool() -> EnginePool:
    """The library API's engine pool, built on first use."""
    return _default.get()


def get_engine(
    model: str = "base",
    *,
    device: Device = "auto",
    compute_type: str = "auto",
    threads: int = 0,
    cache_dir: Path | None = None,
    workers: int = 1,
) -> ASREngine:
    """A loaded engine for ``model`` from the library's default pool (built once, reused).

    Raises :class:`earmark.errors.ModelError` when the model cannot be found or loaded.
    A server uses its own pool (``Services.runtime.engines``).
    """
    options = EngineOptions(
        model=model,
        device=device,
        compute_type=compute_type,
        threads=threads,
        workers=workers,
        cache_dir=cache_dir,
    )
    return default_pool().get(options)


def clear_engines() -> None:
    """Forget every engine of the default pool (their memory is freed once no caller
    holds them)."""
    default_pool().clear()

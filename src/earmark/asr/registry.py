"""ASR engines, registered by name, and the pool that owns the loaded ones.

An engine kind is a factory ``(EngineOptions) -> ASREngine`` registered with
:func:`register_engine` (``faster-whisper`` registers itself; tests register a fake one
through the same call, so server tests that are not about Whisper do not run Whisper).
An :class:`EnginePool` loads each (kind, load-time options) once and keeps it: the server's
services own one, the library API keeps a default one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from earmark.asr.base import ASREngine
from earmark.asr.faster_whisper import (
    EngineOptions,
    FasterWhisperEngine,
    select_compute_type,
    select_device,
    select_threads,
)
from earmark.asr.models import canonical_name
from earmark.errors import InputError

__all__ = ["DEFAULT_ENGINE", "EngineFactory", "EnginePool", "engine_names", "register_engine"]

DEFAULT_ENGINE = "faster-whisper"

EngineFactory = Callable[[EngineOptions], ASREngine]

_KINDS: dict[str, EngineFactory] = {}
_KINDS_LOCK = threading.Lock()


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make ``name`` an ASR engine kind (``EARMARK_ASR_ENGINE``)."""
    with _KINDS_LOCK:
        _KINDS[name] = factory


def engine_names() -> tuple[str, ...]:
    """The registered ASR engine kinds."""
    with _KINDS_LOCK:
        return tuple(_KINDS)


def _factory(kind: str) -> EngineFactory:
    with _KINDS_LOCK:
        factory = _KINDS.get(kind)
    if factory is None:
        raise InputError(f"unknown ASR engine {kind!r}; engines: {', '.join(engine_names())}")
    return factory


def normalise(options: EngineOptions) -> EngineOptions:
    """``options`` with aliases folded and ``auto`` values resolved (the pool's key)."""
    device = select_device(options.device)
    return replace(
        options,
        model=canonical_name(options.model),
        device=device,  # type: ignore[arg-type]
        compute_type=select_compute_type(options.compute_type, device),
        threads=select_threads(options.threads),
        workers=max(1, options.workers),
        cache_dir=Path(options.cache_dir) if options.cache_dir is not None else None,
    )


@dataclass
class EnginePool:
    """Loads each engine once per (kind, load-time options) and reuses it.

    Two threads asking for the same engine at once load it only once; different engines
    load in parallel. ``kind`` is the engine kind used when a call names none.
    """

    kind: str = DEFAULT_ENGINE
    _engines: dict[tuple[str, EngineOptions], ASREngine] = field(default_factory=dict)
    _locks: dict[tuple[str, EngineOptions], threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, options: EngineOptions, kind: str | None = None) -> ASREngine:
        """The loaded engine for ``options`` (raises :class:`~earmark.errors.ModelError`
        when the model cannot be found or loaded)."""
        which = kind or self.kind
        factory = _factory(which)
        key = (which, normalise(options))
        with self._lock:
            engine = self._engines.get(key)
            if engine is not None:
                return engine
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = factory(key[1])
                with self._lock:
                    self._engines[key] = engine
        return engine

    def clear(self) -> None:
        """Forget every loaded engine (memory is freed once no caller holds them)."""
        with self._lock:
            self._engines.clear()
            self._locks.clear()


register_engine(DEFAULT_ENGINE, FasterWhisperEngine)

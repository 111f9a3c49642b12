"""Topic tagging: tag lists, the embedding tagger (offline default) and the engine registry."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from earmark.errors import InputError
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.tagging.taglist import dump_tags, load_tags, presets

if TYPE_CHECKING:
    from earmark.tagging.static_encoder import Progress

__all__ = [
    "ENGINES",
    "TagInput",
    "TagOptions",
    "Tagger",
    "dump_tags",
    "get_tagger",
    "load_tags",
    "presets",
]

ENGINES: tuple[str, ...] = ("embedding", "static", "llm")
"""Tagging engines :func:`get_tagger` knows."""

_EMBEDDING_MODELS = (None, "", "all-MiniLM-L6-v2", "minilm")
_TAGGERS: dict[tuple[str, str | None], Tagger] = {}
_LOCKS: dict[tuple[str, str | None], threading.Lock] = {}
_REGISTRY_LOCK = threading.Lock()


def get_tagger(
    engine: str = "embedding", model: str | None = None, *, progress: Progress | None = None
) -> Tagger:
    """The tagger for ``engine`` (cached: one per engine and model per process).

    ``embedding`` is MiniLM (``model`` may be ``None`` or ``"all-MiniLM-L6-v2"``).
    ``static`` is the same tagger on a static word-piece table distilled from MiniLM
    (:class:`~earmark.tagging.static_encoder.StaticEncoder`): about 100x faster, less
    accurate; the table is built on first use (about a minute, ``progress`` is told how
    far it is) and then loaded from earmark's cache folder.
    ``llm`` asks a chat model routed like a gateway request (``model`` ``None`` =
    ``EARMARK_LLM_TAG_MODEL``, the bundled local model by default).
    """
    if engine not in ENGINES:
        raise InputError(f"unknown tagging engine {engine!r}; engines: {', '.join(ENGINES)}")
    if engine != "llm":
        if model not in _EMBEDDING_MODELS:
            raise InputError(
                f"unknown model {model!r} for the {engine} tagger; it uses all-MiniLM-L6-v2"
            )
        model = None  # every spelling of the default shares one cached tagger
    key = (engine, model or None)
    with _REGISTRY_LOCK:
        if key in _TAGGERS:
            return _TAGGERS[key]
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:  # one build per engine at a time (the static table takes a minute)
        if key not in _TAGGERS:
            tagger = _make_tagger(engine, model, progress)
            with _REGISTRY_LOCK:
                _TAGGERS[key] = tagger
        return _TAGGERS[key]


def _make_tagger(engine: str, model: str | None, progress: Progress | None) -> Tagger:
    if engine == "embedding":
        from earmark.tagging.embedding import EmbeddingTagger

        return EmbeddingTagger()
    if engine == "static":
        from earmark.tagging.embedding import EmbeddingTagger
        from earmark.tagging.static_encoder import STATIC_CONFIG, StaticEncoder

        tagger = EmbeddingTagger(StaticEncoder(progress=progress), config=STATIC_CONFIG)
        tagger.name = "static"
        return tagger
    from earmark.tagging.llm import LLMTagger, LLMTaggerOptions

    return LLMTagger(LLMTaggerOptions(model=model or None))

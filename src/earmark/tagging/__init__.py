"""Topic tagging: tag lists, the embedding tagger (offline default) and the engine registry."""

from __future__ import annotations

import functools

from earmark.errors import InputError
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.tagging.taglist import dump_tags, load_tags, presets

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

ENGINES: tuple[str, ...] = ("embedding", "llm")
"""Tagging engines :func:`get_tagger` knows."""

_EMBEDDING_MODELS = (None, "", "all-MiniLM-L6-v2", "minilm")


def get_tagger(engine: str = "embedding", model: str | None = None) -> Tagger:
    """The tagger for ``engine`` (cached: one per engine and model per process).

    ``embedding`` is MiniLM (``model`` may be ``None`` or ``"all-MiniLM-L6-v2"``).
    ``llm`` asks a chat model routed like a gateway request (``model`` ``None`` =
    ``EARMARK_LLM_TAG_MODEL``, the bundled local model by default).
    """
    if engine == "embedding" and model in _EMBEDDING_MODELS:
        model = None  # every spelling of the default shares one cached tagger
    return _get_tagger(engine, model)


@functools.lru_cache(maxsize=16)
def _get_tagger(engine: str, model: str | None) -> Tagger:
    if engine == "embedding":
        if model not in _EMBEDDING_MODELS:
            raise InputError(
                f"unknown model {model!r} for the embedding tagger; it uses all-MiniLM-L6-v2"
            )
        from earmark.tagging.embedding import EmbeddingTagger

        return EmbeddingTagger()
    if engine == "llm":
        from earmark.tagging.llm import LLMTagger, LLMTaggerOptions

        return LLMTagger(LLMTaggerOptions(model=model or None))
    raise InputError(f"unknown tagging engine {engine!r}; engines: {', '.join(ENGINES)}")

"""Topic tagging: tag lists, the embedding tagger (offline default) and the engine registry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from earmark._lazy import Lazy
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.tagging.registry import TaggerPool, register_tagger, tagger_names
from earmark.tagging.taglist import dump_tags, load_tags, presets

if TYPE_CHECKING:
    from earmark.tagging.static_encoder import Progress

__all__ = [
    "ENGINES",
    "TagInput",
    "TagOptions",
    "Tagger",
    "TaggerPool",
    "default_pool",
    "dump_tags",
    "get_tagger",
    "load_tags",
    "presets",
    "register_tagger",
    "tagger_names",
]

ENGINES: tuple[str, ...] = tagger_names()
"""The built-in tagging engines (:func:`tagger_names` also lists registered plugins)."""

_default: Lazy[TaggerPool] = Lazy(TaggerPool)


def default_pool() -> TaggerPool:
    """The library API's pool (settings from the environment), built on first use."""
    return _default.get()


def get_tagger(
    engine: str = "embedding", model: str | None = None, *, progress: Progress | None = None
) -> Tagger:
    """The tagger for ``engine`` from the library's default pool.

    ``embedding`` is MiniLM (``model`` may be ``None`` or ``"all-MiniLM-L6-v2"``).
    ``static`` is the same tagger on a static word-piece table distilled from MiniLM
    (:class:`~earmark.tagging.static_encoder.StaticEncoder`): about 9x faster per call end to
    end, less accurate; the table is built on first use (about a minute, ``progress`` is told
    how far it is) and then loaded from earmark's cache folder.
    ``llm`` asks a chat model routed like a gateway request (``model`` ``None`` =
    ``EARMARK_LLM_TAG_MODEL``, the bundled local model by default).
    A server uses its own pool (``Services.runtime.taggers``), built from its settings.
    """
    return default_pool().get(engine, model, progress)

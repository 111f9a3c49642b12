"""Tagging engines, registered by name, and the pool that owns the built taggers.

An engine is a factory ``(TaggerContext) -> Tagger`` registered with
:func:`register_tagger`; the built-in ones (``embedding``, ``static``, ``llm``) register
themselves below, and a plugin or a test registers its own the same way. A
:class:`TaggerPool` builds each (engine, model) once and keeps it: the server's services own
one pool built from their settings; the library API keeps a default one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from earmark.config import Settings
from earmark.errors import InputError
from earmark.tagging.base import Tagger

if TYPE_CHECKING:
    from earmark.llm import Router
    from earmark.tagging.static_encoder import Progress

__all__ = [
    "TaggerContext",
    "TaggerFactory",
    "TaggerPool",
    "register_tagger",
    "tagger_names",
]

MINILM_NAMES = (None, "", "all-MiniLM-L6-v2", "minilm")
"""Every spelling of the one model the embedding and static engines use."""


@dataclass(frozen=True)
class TaggerContext:
    """What a tagger factory may use: the model asked for, the settings, the LLM router of
    the pool's owner, and a progress callback for slow first builds (the static table)."""

    model: str | None
    settings: Settings
    router: Callable[[], Router]
    progress: Progress | None = None


TaggerFactory = Callable[[TaggerContext], Tagger]


@dataclass(frozen=True)
class _Engine:
    factory: TaggerFactory
    fixed_model: bool  # True: the engine has one model (any spelling of MiniLM)


_ENGINES: dict[str, _Engine] = {}
_ENGINES_LOCK = threading.Lock()


def register_tagger(name: str, factory: TaggerFactory, *, fixed_model: bool = False) -> None:
    """Make ``name`` a tagging engine (``custom_tags.engine``, ``--engine``).

    ``fixed_model``: the engine always uses MiniLM, so ``model`` must be one of its
    spellings and every spelling shares one tagger.
    """
    with _ENGINES_LOCK:
        _ENGINES[name] = _Engine(factory, fixed_model)


def tagger_names() -> tuple[str, ...]:
    """The registered engine names, in registration order."""
    with _ENGINES_LOCK:
        return tuple(_ENGINES)


def check_engine(name: object, where: str = "tagging engine") -> str:
    """``name`` if it is a registered engine, else :class:`InputError` listing them."""
    names = tagger_names()
    if not isinstance(name, str) or name not in names:
        raise InputError(f"{where} must be one of {', '.join(names)}, not {name!r}")
    return name


@dataclass
class TaggerPool:
    """Builds each (engine, model) tagger once, for the settings it was made with."""

    settings: Settings = field(default_factory=Settings)
    router: Callable[[], Router] | None = None
    _taggers: dict[tuple[str, str | None], Tagger] = field(default_factory=dict)
    _locks: dict[tuple[str, str | None], threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _own_router: Router | None = None

    def get(
        self, engine: str = "embedding", model: str | None = None, progress: Progress | None = None
    ) -> Tagger:
        """The tagger for ``engine`` and ``model`` (built on first use, then reused)."""
        with _ENGINES_LOCK:
            spec = _ENGINES.get(engine)
        if spec is None:
            raise InputError(
                f"unknown tagging engine {engine!r}; engines: {', '.join(tagger_names())}"
            )
        if spec.fixed_model:
            if model not in MINILM_NAMES:
                raise InputError(
                    f"unknown model {model!r} for the {engine} tagger; it uses all-MiniLM-L6-v2"
                )
            model = None
        key = (engine, model or None)
        with self._lock:
            if key in self._taggers:
                return self._taggers[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one build per engine at a time (the static table takes a minute)
            if key not in self._taggers:
                context = TaggerContext(key[1], self.settings, self._router, progress)
                tagger = spec.factory(context)
                with self._lock:
                    self._taggers[key] = tagger
            return self._taggers[key]

    def _router(self) -> Router:
        if self.router is not None:
            return self.router()
        with self._lock:
            if self._own_router is None:
                from earmark.llm import Router

                self._own_router = Router.from_settings(self.settings.llm)
            return self._own_router


def _embedding(context: TaggerContext) -> Tagger:
    from earmark.tagging.embedding import EmbeddingTagger

    return EmbeddingTagger()


def _static(context: TaggerContext) -> Tagger:
    from earmark.tagging.embedding import EmbeddingTagger
    from earmark.tagging.static_encoder import STATIC_CONFIG, StaticEncoder, StaticOptions

    options = StaticOptions(cache_dir=context.settings.asr.cache_dir)
    tagger = EmbeddingTagger(
        StaticEncoder(options, progress=context.progress), config=STATIC_CONFIG
    )
    tagger.name = "static"
    return tagger


def _llm(context: TaggerContext) -> Tagger:
    from earmark.tagging.llm import LLMTagger, LLMTaggerOptions

    return LLMTagger(LLMTaggerOptions(model=context.model or None), router=context.router())


register_tagger("embedding", _embedding, fixed_model=True)
register_tagger("static", _static, fixed_model=True)
register_tagger("llm", _llm)


def _accurate(context: TaggerContext) -> Tagger:
    from earmark.tagging.mpnet import accurate_tagger

    return accurate_tagger(context.model, context.settings.asr.cache_dir)


register_tagger("accurate", _accurate)

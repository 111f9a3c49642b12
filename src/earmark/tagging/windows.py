"""Cut a transcript into time-stamped windows, or plain text into sentence windows.

A window is at most ``TagOptions.window_words`` words and about ``window_ms`` long,
cut on segment (or sentence) boundaries where possible, and never longer than the
encoder's token limit (256 word pieces for MiniLM) when a token counter is given.
A short text is a single window. :func:`split_sentences` is also how the embedding
tagger cuts a window into the sentences it embeds one by one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from earmark.tagging.base import TagInput, TagOptions
from earmark.types import Segment, Transcript

__all__ = ["TokenCounter", "Window", "make_windows", "split_sentences"]

TokenCounter = Callable[[Sequence[str]], list[int]]
"""Word pieces per text including the two special tokens (``TextEncoder.count_tokens``)."""

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (cut after ``.``, ``!``, ``?`` or ``…`` and a space).

    Text without such punctuation is one sentence; an empty text gives none.
    """
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text.strip())) if s]


@dataclass(frozen=True)
class Window:
    """A stretch of a transcript (times in ms) or of plain text (times ``None``)."""

    start_ms: int | None
    end_ms: int | None
    text: str


@dataclass(frozen=True)
class _Unit:
    start_ms: int | None
    end_ms: int | None
    text: str
    words: int
    tokens: int  # word pieces without the special tokens


def _estimate(texts: Sequence[str]) -> list[int]:
    return [2 + (4 * len(t.split()) + 2) // 3 for t in texts]


def _split_words(text: str, limit: int) -> list[str]:
    words = text.split()
    return [" ".join(words[i : i + limit]) for i in range(0, len(words), limit)]


def _segment_pieces(seg: Segment, limit: int) -> list[tuple[int, int, str]]:
    """A segment, split into pieces of at most ``limit`` words with their times."""
    if len(seg.text.split()) <= limit:
        return [(seg.start_ms, seg.end_ms, seg.text.strip())]
    if seg.words:
        out = []
        for i in range(0, len(seg.words), limit):
            chunk = seg.words[i : i + limit]
            out.append((chunk[0].start_ms, chunk[-1].end_ms, " ".join(w.text for w in chunk)))
        return out
    words = seg.text.split()
    span = max(seg.end_ms - seg.start_ms, 0)
    out = []
    for i in range(0, len(words), limit):
        j = min(i + limit, len(words))
        start = seg.start_ms + span * i // len(words)
        end = seg.start_ms + span * j // len(words)
        out.append((start, end, " ".join(words[i:j])))
    return out


def _units(
    pieces: list[tuple[int | None, int | None, str]], count: TokenCounter, max_content: int
) -> list[_Unit]:
    pieces = [p for p in pieces if p[2].strip()]
    tokens = [max(n - 2, 0) for n in count([p[2] for p in pieces])]
    units: list[_Unit] = []
    for (start, end, text), n in zip(pieces, tokens, strict=True):
        if n <= max_content:
            units.append(_Unit(start, end, text, len(text.split()), n))
            continue
        # Too many word pieces for the encoder (long words, numbers): halve until it fits.
        words = text.split()
        half = max(len(words) // 2, 1)
        sub: list[tuple[int | None, int | None, str]] = []
        for i in range(0, len(words), half):
            j = min(i + half, len(words))
            if start is None or end is None:
                sub.append((None, None, " ".join(words[i:j])))
            else:
                span = end - start
                sub.append(
                    (
                        start + span * i // len(words),
                        start + span * j // len(words),
                        " ".join(words[i:j]),
                    )
                )
        if len(words) == 1:  # one giant "word": the encoder truncates it, keep as is
            units.append(_Unit(start, end, text, 1, max_content))
        else:
            units.extend(_units(sub, count, max_content))
    return units


def _pack(units: list[_Unit], options: TagOptions, max_content: int) -> list[Window]:
    groups: list[list[_Unit]] = []
    cur: list[_Unit] = []
    words = tokens = 0
    for unit in units:
        too_long = False
        if cur:
            too_long = (
                words + unit.words > options.window_words or tokens + unit.tokens > max_content
            )
            start, end = cur[0].start_ms, unit.end_ms
            if start is not None and end is not None and end - start > options.window_ms:
                too_long = True
        if too_long:
            groups.append(cur)
            cur, words, tokens = [], 0, 0
        cur.append(unit)
        words += unit.words
        tokens += unit.tokens
    if cur:
        groups.append(cur)
    # Fold a tiny tail (under a quarter of a window) into the window before it when it fits.
    if len(groups) > 1 and _foldable(groups[-2], groups[-1], options, max_content):
        groups[-2:] = [groups[-2] + groups[-1]]
    return [Window(g[0].start_ms, g[-1].end_ms, " ".join(u.text for u in g)) for g in groups]


def _foldable(prev: list[_Unit], tail: list[_Unit], options: TagOptions, max_content: int) -> bool:
    both = prev + tail
    words = sum(u.words for u in both)
    if sum(u.tokens for u in both) > max_content or words > options.window_words * 5 // 4:
        return False
    tail_words = sum(u.words for u in tail)
    start, end, tail_start = prev[0].start_ms, tail[-1].end_ms, tail[0].start_ms
    if start is None or end is None or tail_start is None:
        return tail_words * 4 < options.window_words
    if end - start > options.window_ms * 5 // 4:
        return False
    return tail_words * 4 < options.window_words or (end - tail_start) * 4 < options.window_ms


def _transcript_pieces(
    item: Transcript, options: TagOptions
) -> list[tuple[int | None, int | None, str]]:
    if not item.segments:
        if not item.text.strip():
            return []
        seg = Segment(id=0, start_ms=0, end_ms=item.duration_ms, text=item.text)
        return list(_segment_pieces(seg, options.window_words))
    pieces: list[tuple[int | None, int | None, str]] = []
    for seg in item.segments:
        pieces.extend(_segment_pieces(seg, options.window_words))
    return pieces


def make_windows(
    item: TagInput,
    options: TagOptions | None = None,
    count_tokens: TokenCounter | None = None,
    max_tokens: int = 256,
) -> list[Window]:
    """Cut ``item`` into windows; an empty item gives no window.

    ``count_tokens`` (e.g. ``TextEncoder.count_tokens``) keeps every window within
    ``max_tokens`` word pieces; without it a words-based estimate is used.
    """
    opts = options or TagOptions()
    if opts.window_words < 1 or opts.window_ms < 1:
        from earmark.errors import InputError

        raise InputError("window_words and window_ms must be positive")
    count = count_tokens or _estimate
    max_content = max(max_tokens - 2, 1)
    if isinstance(item, Transcript):
        pieces = _transcript_pieces(item, opts)
    else:
        pieces = []
        for sentence in split_sentences(item):
            pieces.extend((None, None, p) for p in _split_words(sentence, opts.window_words))
    return _pack(_units(pieces, count, max_content), opts, max_content)

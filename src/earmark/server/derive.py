"""Views derived from a transcript's words: sentences, paragraphs and word search.

- Sentences end at a word whose text ends with terminal punctuation (``.``, ``?``, ``!``,
  also ``…`` and closing quotes after them), or at the end of the transcript.
- Paragraphs group sentences; a new paragraph starts after a pause of at least
  :data:`PARAGRAPH_PAUSE_MS` or when one would run past :data:`PARAGRAPH_MAX_MS`.
- Word search matches each term (up to 5 words) against consecutive words, ignoring case
  and punctuation, and returns the index in ``words[]`` of each match's first word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from earmark.conversation import Utterance, utterances
from earmark.errors import InputError
from earmark.types import Transcript, Word

__all__ = [
    "PARAGRAPH_MAX_MS",
    "PARAGRAPH_PAUSE_MS",
    "language_stretches",
    "paragraphs",
    "parse_terms",
    "sentences",
    "utterance_wire",
    "word_search",
    "word_wire",
]

PARAGRAPH_PAUSE_MS = 1500
PARAGRAPH_MAX_MS = 60_000
MAX_PHRASE_WORDS = 5
_TERMINAL = re.compile(r"[.?!…。？！][\"'”’)\]]*$")
_NORMALISE = re.compile(r"[^\w']+")


def word_wire(w: Word) -> dict[str, Any]:
    """A word as AssemblyAI sends it: integer ms, ``speaker`` ("A"... or null), and
    ``channel`` ("1"...) only on multichannel transcripts."""
    out: dict[str, Any] = {
        "text": w.text,
        "start": int(w.start_ms),
        "end": int(w.end_ms),
        "confidence": round(float(w.confidence), 4),
        "speaker": w.speaker,
    }
    if w.channel is not None:
        out["channel"] = w.channel
    return out


def _group(words: Sequence[Word]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "text": " ".join(w.text for w in words),
        "start": int(words[0].start_ms),
        "end": int(words[-1].end_ms),
        "confidence": round(sum(w.confidence for w in words) / len(words), 4),
        "speaker": words[0].speaker,
        "words": [word_wire(w) for w in words],
    }
    if words[0].channel is not None:
        out["channel"] = words[0].channel
    return out


def utterance_wire(u: Utterance) -> dict[str, Any]:
    """A turn as AssemblyAI sends it. Its ``speaker`` is never null: on a multichannel
    transcript without speaker labels it is the channel."""
    out = _group(u.words)
    out["speaker"] = u.speaker or u.channel or "A"
    return out


def language_stretches(t: Transcript) -> list[dict[str, Any]]:
    """Where each language is spoken: consecutive segments of one language as
    ``{language, start, end}`` (earmark's ``earmark_languages`` extension)."""
    out: list[dict[str, Any]] = []
    for seg in sorted(t.segments, key=lambda s: s.start_ms):
        language = seg.language or t.language
        if out and out[-1]["language"] == language:
            out[-1]["end"] = max(out[-1]["end"], int(seg.end_ms))
        else:
            out.append({"language": language, "start": int(seg.start_ms), "end": int(seg.end_ms)})
    return out


def _turn_words(t: Transcript) -> list[Sequence[Word]]:
    """The words in runs that sentences must not cross: each turn of a conversation, or
    the whole transcript."""
    turns = utterances(t)
    return [u.words for u in turns] if turns else [t.words]


def _sentence_spans(words: Sequence[Word]) -> list[list[Word]]:
    spans: list[list[Word]] = []
    current: list[Word] = []
    for w in words:
        current.append(w)
        if _TERMINAL.search(w.text.strip()):
            spans.append(current)
            current = []
    if current:
        spans.append(current)
    return spans


def sentences(t: Transcript) -> list[dict[str, Any]]:
    """The transcript's sentences in AssemblyAI's wire form (within turns)."""
    return [_group(span) for run in _turn_words(t) for span in _sentence_spans(run)]


def paragraphs(t: Transcript) -> list[dict[str, Any]]:
    """The transcript's paragraphs in AssemblyAI's wire form."""
    out: list[list[Word]] = []
    spans = [span for run in _turn_words(t) for span in _sentence_spans(run)]
    for span in spans:
        if out and (span[0].speaker, span[0].channel) == (out[-1][0].speaker, out[-1][0].channel):
            last = out[-1]
            pause = span[0].start_ms - last[-1].end_ms
            if (
                pause < PARAGRAPH_PAUSE_MS
                and span[-1].end_ms - last[0].start_ms <= PARAGRAPH_MAX_MS
            ):
                last.extend(span)
                continue
        out.append(list(span))
    result = []
    for para in out:
        group = _group(para)
        del group["speaker"]  # the spec's paragraphs have neither speaker nor channel
        group.pop("channel", None)
        result.append(group)
    return result


def _norm(text: str) -> str:
    return _NORMALISE.sub(" ", text.lower()).strip(" '")


def parse_terms(raw: str) -> list[str]:
    """``"hello,my friend"`` -> ``["hello", "my friend"]``; raises :class:`InputError`
    for no terms or a term of more than 5 words."""
    terms = [t.strip() for t in raw.split(",") if t.strip()]
    if not terms:
        raise InputError("Word search error, give the words to find as words=one,two%20words")
    for term in terms:
        if len(_norm(term).split()) > MAX_PHRASE_WORDS:
            raise InputError(f"Word search error, {term!r} has more than {MAX_PHRASE_WORDS} words")
    return terms


def word_search(t: Transcript, terms: Sequence[str]) -> dict[str, Any]:
    """Matches of each term: ``{total_count, matches:[{text, count, timestamps, indexes}]}``."""
    words = t.words
    normed = [_norm(w.text) for w in words]
    matches = []
    total = 0
    for term in terms:
        needle = _norm(term).split()
        if not needle:
            continue
        n = len(needle)
        indexes = [i for i in range(len(normed) - n + 1) if normed[i : i + n] == needle]
        matches.append(
            {
                "text": term,
                "count": len(indexes),
                "timestamps": [
                    [int(words[i].start_ms), int(words[i + n - 1].end_ms)] for i in indexes
                ],
                "indexes": indexes,
            }
        )
        total += len(indexes)
    return {"total_count": total, "matches": matches}

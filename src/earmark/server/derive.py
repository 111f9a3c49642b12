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

from earmark.errors import InputError
from earmark.types import Transcript, Word

__all__ = [
    "PARAGRAPH_MAX_MS",
    "PARAGRAPH_PAUSE_MS",
    "paragraphs",
    "parse_terms",
    "sentences",
    "word_search",
    "word_wire",
]

PARAGRAPH_PAUSE_MS = 1500
PARAGRAPH_MAX_MS = 60_000
MAX_PHRASE_WORDS = 5
_TERMINAL = re.compile(r"[.?!…。？！][\"'”’)\]]*$")
_NORMALISE = re.compile(r"[^\w']+")


def word_wire(w: Word) -> dict[str, Any]:
    """A word as AssemblyAI sends it (integer ms, no speaker since earmark does not diarize)."""
    return {
        "text": w.text,
        "start": int(w.start_ms),
        "end": int(w.end_ms),
        "confidence": round(float(w.confidence), 4),
        "speaker": None,
    }


def _group(words: Sequence[Word]) -> dict[str, Any]:
    return {
        "text": " ".join(w.text for w in words),
        "start": int(words[0].start_ms),
        "end": int(words[-1].end_ms),
        "confidence": round(sum(w.confidence for w in words) / len(words), 4),
        "speaker": None,
        "words": [word_wire(w) for w in words],
    }


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
    """The transcript's sentences in AssemblyAI's wire form."""
    return [_group(span) for span in _sentence_spans(t.words)]


def paragraphs(t: Transcript) -> list[dict[str, Any]]:
    """The transcript's paragraphs in AssemblyAI's wire form."""
    out: list[list[Word]] = []
    for span in _sentence_spans(t.words):
        if out:
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
        del group["speaker"]
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

"""Word error rate, for tests and benchmarks.

Normalisation is deliberately simple and symmetric: case-folded, apostrophes dropped
(``don't`` -> ``dont``), every other punctuation mark a space, numbers left as they come
(``"10"`` and ``"ten"`` differ). Abbreviations are not expanded (``"Mr."`` vs ``"mister"``
counts as an error), so scores are a little pessimistic against LibriSpeech references.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ErrorCounts", "corpus_wer", "error_counts", "normalize_text", "word_error_rate"]

_APOSTROPHES = frozenset("'’‘`´")


@dataclass(frozen=True)
class ErrorCounts:
    """Word edits between a reference and a hypothesis."""

    errors: int
    reference_words: int

    @property
    def wer(self) -> float:
        if self.reference_words == 0:
            return 0.0 if self.errors == 0 else 1.0
        return self.errors / self.reference_words


def normalize_text(text: str) -> list[str]:
    """Lower-case words with punctuation removed (see the module docstring)."""
    out = []
    for ch in unicodedata.normalize("NFKC", text).casefold():
        if ch in _APOSTROPHES:
            continue
        cat = unicodedata.category(ch)
        out.append(" " if cat[0] in "PSZC" else ch)
    return "".join(out).split()


def error_counts(reference: str, hypothesis: str) -> ErrorCounts:
    """Substitutions + deletions + insertions (Levenshtein over normalised words)."""
    ref = normalize_text(reference)
    hyp = normalize_text(hypothesis)
    return ErrorCounts(errors=_edit_distance(ref, hyp), reference_words=len(ref))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of ``hypothesis`` against ``reference`` (0.0 is perfect; can exceed 1.0)."""
    return error_counts(reference, hypothesis).wer


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """WER over many (reference, hypothesis) pairs: total errors / total reference words."""
    errors = words = 0
    for ref, hyp in pairs:
        c = error_counts(ref, hyp)
        errors += c.errors
        words += c.reference_words
    return ErrorCounts(errors, words).wer


def _edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]

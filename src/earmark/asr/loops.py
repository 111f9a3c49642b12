"""Repetition loops: Whisper sometimes emits the same words again and again.

A decoder that has lost its place in the audio can fall into a loop ("the above copyright
notice and the above copyright notice and ..."). :func:`collapse_loops` finds a run of
``n`` words repeated back to back more often than speech does and keeps two repeats;
:func:`count_loops` counts such runs in a text, for benchmarks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["collapse_loops", "count_loops", "normalize_for_loops"]

MAX_NGRAM = 16
"""Longest repeated phrase looked for, in words."""

_MIN_REPEATS = {1: 6}
"""Back-to-back repeats that make a loop: 6 for one word ("no no no no no" is speech), 4
for longer phrases."""
_DEFAULT_REPEATS = 4
_WORD = re.compile(r"[^\w']+")
_NUMBER_WORDS = frozenset(
    [
        "oh",
        "o",
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "hundred",
        "thousand",
    ]
)


def normalize_for_loops(text: str) -> str:
    """Lower case, punctuation removed: how repeats are compared."""
    return " ".join(_WORD.sub(" ", text.lower()).split())


def _loop_at(keys: Sequence[str], i: int) -> tuple[int, int] | None:
    """``(n, repeats)`` of the longest-running loop starting at ``i``, if any."""
    best: tuple[int, int] | None = None
    for n in range(1, MAX_NGRAM + 1):
        if i + 2 * n > len(keys):
            break
        gram = keys[i : i + n]
        if not any(gram):
            continue
        if n == 1 and (gram[0] in _NUMBER_WORDS or gram[0].isdigit()):
            continue  # "one zero zero zero zero zero zero" is a number, not a loop
        repeats = 1
        while keys[i + repeats * n : i + (repeats + 1) * n] == gram:
            repeats += 1
        if repeats >= _MIN_REPEATS.get(n, _DEFAULT_REPEATS) and (
            best is None or repeats * n > best[0] * best[1]
        ):
            best = (n, repeats)
    return best


def collapse_loops(words: Sequence[str]) -> list[int]:
    """Indices of ``words`` to keep: each loop is cut to its first two repeats."""
    keys = [normalize_for_loops(w) for w in words]
    keep: list[int] = []
    i = 0
    while i < len(keys):
        loop = _loop_at(keys, i)
        if loop is None:
            keep.append(i)
            i += 1
            continue
        n, repeats = loop
        keep.extend(range(i, i + 2 * n))
        i += n * repeats
    return keep


def count_loops(text: str) -> int:
    """How many repetition loops ``text`` holds (0 for ordinary speech)."""
    keys = [normalize_for_loops(w) for w in text.split()]
    found = 0
    i = 0
    while i < len(keys):
        loop = _loop_at(keys, i)
        if loop is None:
            i += 1
            continue
        found += 1
        i += loop[0] * loop[1]
    return found

"""Learning from corrections: texts a person re-labelled become examples of the right tag.

A :class:`Correction` says "this text is about ``correct``" (``None``: no tag fits, which
teaches nothing and is skipped), and optionally which tag was ``wrong``ly given.
:func:`teach` returns the tag list with each correction's text added as an example of its
correct tag; ``earmark tags teach`` and (later) the web app both go through it.

The example rule (a tag list's example is at most ``MAX_EXAMPLE_CHARS``, 500, characters):

- A text of at most 500 characters (spaces collapsed) is the example as it is.
- A longer text is cut into passages of at most 250 characters (sentences, packed together
  while they fit; a longer sentence, as unpunctuated speech-to-text output often is, is cut
  at word boundaries). The most topical passages are kept, in their original order, while
  they fit in 500 characters. Topical means, with a ``relevance`` function (the CLI uses the
  embedding tagger): highest relevance to the correct tag minus relevance to the wrong one,
  i.e. the passages that tell the two apart; without one: most words shared with the correct
  tag's name, description and examples (compared on their first five letters).
- An example already in the tag (case and spacing ignored) is not added twice, and a tag
  takes no more than ``MAX_EXAMPLES`` (100) examples: the existing ones stay, corrections
  past the limit are skipped. Both are counted in the :class:`TeachSummary`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from earmark.errors import InputError
from earmark.tagging.base import Tagger, TagOptions
from earmark.tagging.taglist import MAX_EXAMPLE_CHARS, MAX_EXAMPLES
from earmark.types import Tag, TagList

__all__ = [
    "Correction",
    "Relevance",
    "TeachSummary",
    "example_text",
    "load_corrections",
    "tagger_relevance",
    "teach",
    "teach_with_summary",
]

PASSAGE_CHARS = 250
"""The longest passage a long text is cut into before the most topical are chosen."""

Relevance = Callable[[list[str]], list[dict[str, float]]]
"""Given passages, each passage's relevance (0..1) to every tag name of the list."""

_STOP = frozenset(
    [
        "about",
        "also",
        "and",
        "are",
        "been",
        "but",
        "can",
        "for",
        "from",
        "has",
        "have",
        "into",
        "its",
        "more",
        "not",
        "of",
        "off",
        "one",
        "our",
        "out",
        "over",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "will",
        "with",
        "would",
        "your",
        "you",
    ]
)


@dataclass(frozen=True)
class Correction:
    """A text and the tag it should have had (``None``: none of the tags fits)."""

    text: str
    correct: str | None
    wrong: str | None = None


@dataclass(frozen=True)
class TeachSummary:
    """What :func:`teach_with_summary` did: examples added per tag, and rows skipped."""

    added: dict[str, int] = field(default_factory=dict)
    skipped_none: int = 0
    skipped_duplicate: int = 0
    skipped_full: int = 0
    corrections: int = 0

    def lines(self) -> list[str]:
        out = [f"  {name}: +{n} example{'s' if n != 1 else ''}" for name, n in self.added.items()]
        skipped = [
            (self.skipped_none, "labelled none (nothing to teach)"),
            (self.skipped_duplicate, "already an example"),
            (self.skipped_full, f"tag already has {MAX_EXAMPLES} examples"),
        ]
        out += [f"  skipped {n}: {why}" for n, why in skipped if n]
        return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.casefold())


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def passages(text: str, limit: int = PASSAGE_CHARS) -> list[str]:
    """Cut ``text`` into passages of at most ``limit`` characters (see the module docstring)."""
    pieces: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
        if len(sentence) <= limit:
            pieces.append(sentence)
            continue
        current = ""
        for word in sentence.split(" "):
            word = word[:limit]
            if current and len(current) + 1 + len(word) > limit:
                pieces.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        if current:
            pieces.append(current)
    out: list[str] = []
    for piece in pieces:  # pack short sentences together while they fit
        if out and len(out[-1]) + 1 + len(piece) <= limit:
            out[-1] = f"{out[-1]} {piece}"
        elif piece:
            out.append(piece)
    return out


def _stems(text: str) -> list[str]:
    """Content words cut to their first five letters (a crude stem: refund ~ refunds)."""
    return [w[:5] for w in _words(text) if len(w) > 3 and w not in _STOP]


def _lexical(parts: Sequence[str], tag: Tag) -> list[float]:
    vocab = set(_stems(" ".join((tag.name, tag.description, *tag.examples))))
    scores = []
    for part in parts:
        words = _words(part)
        hits = sum(1 for w in _stems(part) if w in vocab)
        scores.append(hits / max(1, len(words)) ** 0.5)
    return scores


def example_text(
    text: str,
    tag: Tag,
    wrong: str | None = None,
    *,
    scores: Sequence[dict[str, float]] | None = None,
    max_chars: int = MAX_EXAMPLE_CHARS,
) -> str:
    """The example a correction of ``text`` to ``tag`` adds (see the module docstring).

    ``scores``: each of ``passages(text)``'s relevance to every tag (from a
    :data:`Relevance`); without it the passages are ranked by shared words.
    """
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    parts = passages(flat, min(PASSAGE_CHARS, max_chars))
    lexical = _lexical(parts, tag)
    if scores is not None:
        if len(scores) != len(parts):
            raise ValueError(f"{len(scores)} scores for {len(parts)} passages")
        rank = [
            (s.get(tag.name, 0.0) - (s.get(wrong, 0.0) if wrong and wrong != tag.name else 0.0))
            for s in scores
        ]
    else:
        rank = lexical
    order = sorted(range(len(parts)), key=lambda i: (-rank[i], -lexical[i], i))
    chosen: list[int] = []
    used = -1
    for i in order:
        if used + 1 + len(parts[i]) <= max_chars:
            chosen.append(i)
            used += 1 + len(parts[i])
    return " ".join(parts[i] for i in sorted(chosen))


def tagger_relevance(tagger: Tagger, taglist: TagList) -> Relevance:
    """A :data:`Relevance` that asks ``tagger`` (the whole passage, no threshold)."""
    options = TagOptions(threshold=0.0, per_window=False)

    def relevance(texts: list[str]) -> list[dict[str, float]]:
        results = tagger.tag_many(list(texts), taglist, options)
        return [{s.tag: s.relevance for s in r.tags} for r in results]

    return relevance


def teach(
    taglist: TagList,
    corrections: Sequence[Correction],
    *,
    relevance: Relevance | None = None,
    max_chars: int = MAX_EXAMPLE_CHARS,
) -> TagList:
    """``taglist`` with each correction's text added as an example of its correct tag."""
    return teach_with_summary(taglist, corrections, relevance=relevance, max_chars=max_chars)[0]


def teach_with_summary(
    taglist: TagList,
    corrections: Sequence[Correction],
    *,
    relevance: Relevance | None = None,
    max_chars: int = MAX_EXAMPLE_CHARS,
) -> tuple[TagList, TeachSummary]:
    """:func:`teach`, and what it did. Raises InputError for a tag the list does not have."""
    names = {_key(t.name): t.name for t in taglist.tags}
    by_name = {t.name: t for t in taglist.tags}
    todo: list[tuple[Correction, str, str | None]] = []
    skipped_none = 0
    for c in corrections:
        if c.correct is None or _key(c.correct) in ("", "none"):
            skipped_none += 1
            continue
        correct = names.get(_key(c.correct))
        if correct is None:
            raise InputError(
                f"correction to {c.correct!r}: not a tag of the list ({', '.join(taglist.names)})"
            )
        if not c.text.strip():
            raise InputError(f"correction to {correct!r} has an empty text")
        wrong = names.get(_key(c.wrong)) if c.wrong else None
        todo.append((c, correct, wrong))
    # score every long text's passages in one call to the relevance function
    cut = {
        i: passages(c.text, min(PASSAGE_CHARS, max_chars))
        for i, (c, _, _) in enumerate(todo)
        if len(" ".join(c.text.split())) > max_chars
    }
    scored: dict[int, list[dict[str, float]]] = {}
    if relevance is not None and cut:
        flat = [p for parts in cut.values() for p in parts]
        values = relevance(flat)
        start = 0
        for i, parts in cut.items():
            scored[i] = values[start : start + len(parts)]
            start += len(parts)
    examples = {t.name: list(t.examples) for t in taglist.tags}
    seen = {name: {_key(e) for e in exs} for name, exs in examples.items()}
    added: dict[str, int] = {}
    duplicate = full = 0
    for i, (c, correct, wrong) in enumerate(todo):
        ex = example_text(
            c.text, by_name[correct], wrong, scores=scored.get(i), max_chars=max_chars
        )
        if _key(ex) in seen[correct]:
            duplicate += 1
        elif len(examples[correct]) >= MAX_EXAMPLES:
            full += 1
        else:
            examples[correct].append(ex)
            seen[correct].add(_key(ex))
            added[correct] = added.get(correct, 0) + 1
    taught = replace(
        taglist, tags=tuple(replace(t, examples=tuple(examples[t.name])) for t in taglist.tags)
    )
    summary = TeachSummary(
        added={n: added[n] for n in taglist.names if n in added},
        skipped_none=skipped_none,
        skipped_duplicate=duplicate,
        skipped_full=full,
        corrections=len(corrections),
    )
    return taught, summary


def load_corrections(path: str | Path) -> list[Correction]:
    """Corrections from ``errors.csv`` of ``earmark eval --report``, or any CSV/JSONL with
    ``text`` and the correct ``label`` (or ``gold``); ``predicted`` (or ``wrong``) is read
    when present."""
    from earmark.tagging.evaluate import NONE_LABEL, load_labelled

    out: list[Correction] = []
    for item in load_labelled(path):
        if not item.text.strip():
            raise InputError(
                f"{path}: row {item.file}: a correction needs the 'text' (transcribe the file "
                "first; errors.csv from 'earmark eval' has it)"
            )
        label = item.label if item.label and _key(item.label) != NONE_LABEL else None
        out.append(Correction(item.text, label, item.predicted))
    return out

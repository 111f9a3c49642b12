"""Measure a tagger on labelled texts: accuracy, macro-F1, per-tag scores, confusion.

Users run it on their own data (``text,label`` CSV or JSONL, see
:func:`load_labelled`); the benchmarks use it too. A label ``none`` (case-insensitive)
means "no tag fits": the tagger is right on it when it selects nothing.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from earmark.errors import InputError
from earmark.tagging.base import Tagger, TagOptions
from earmark.types import TagList

__all__ = ["NONE_LABEL", "EvalReport", "TagStats", "evaluate", "load_labelled"]

NONE_LABEL = "none"


@dataclass(frozen=True)
class TagStats:
    """Precision, recall and F1 of one label; ``support`` is how many items carry it."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvalReport:
    """The outcome of :func:`evaluate`.

    accuracy: share of items whose predicted tag (``best_tag``, or ``none``) is the label.
    macro_f1: mean F1 over the labels present in the data.
    confusion: ``confusion[label][predicted]`` counts.
    none_expected/none_predicted/none_correct: counts for the ``none`` label.
    """

    n: int
    accuracy: float
    macro_f1: float
    per_tag: dict[str, TagStats]
    confusion: dict[str, dict[str, int]]
    ms_per_item: float
    none_expected: int = 0
    none_predicted: int = 0
    none_correct: int = 0
    predictions: list[str] = field(default_factory=list, repr=False)

    def summary(self) -> str:
        """A short human-readable report."""
        lines = [
            f"items: {self.n}  accuracy: {self.accuracy:.3f}  macro-F1: {self.macro_f1:.3f}  "
            f"ms/item: {self.ms_per_item:.1f}"
        ]
        for name, s in self.per_tag.items():
            lines.append(
                f"  {name:30s} P {s.precision:.3f}  R {s.recall:.3f}  F1 {s.f1:.3f}  n={s.support}"
            )
        if self.none_expected or self.none_predicted:
            lines.append(
                f"  none: expected {self.none_expected}, predicted {self.none_predicted}, "
                f"correct {self.none_correct}"
            )
        return "\n".join(lines)


def _canonical(label: str, names: dict[str, str]) -> str:
    key = " ".join(label.split()).casefold()
    if key == NONE_LABEL:
        return NONE_LABEL
    if key not in names:
        raise InputError(
            f"label {label!r} is not a tag of the list ({', '.join(names.values())}) or 'none'"
        )
    return names[key]


def evaluate(
    tagger: Tagger,
    tags: TagList,
    items: Sequence[tuple[str, str]],
    options: TagOptions | None = None,
    batch_size: int = 256,
) -> EvalReport:
    """Tag each ``(text, label)`` and compare the best tag with the label.

    Labels must be tag names (case and spacing ignored) or ``none``.
    """
    if not items:
        raise InputError("nothing to evaluate: no labelled items")
    names = {" ".join(n.split()).casefold(): n for n in tags.names}
    gold = [_canonical(label, names) for _, label in items]
    preds: list[str] = []
    t0 = time.perf_counter()
    for start in range(0, len(items), batch_size):
        chunk = [text for text, _ in items[start : start + batch_size]]
        for result in tagger.tag_many(list(chunk), tags, options):
            preds.append(result.best_tag or NONE_LABEL)
    elapsed = time.perf_counter() - t0
    labels = [n for n in tags.names if n in gold] + ([NONE_LABEL] if NONE_LABEL in gold else [])
    per_tag: dict[str, TagStats] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, preds, strict=True) if g == p == label)
        predicted = preds.count(label)
        support = gold.count(label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        per_tag[label] = TagStats(precision, recall, f1, support)
    confusion: dict[str, dict[str, int]] = {}
    for g, p in zip(gold, preds, strict=True):
        row = confusion.setdefault(g, {})
        row[p] = row.get(p, 0) + 1
    correct = sum(1 for g, p in zip(gold, preds, strict=True) if g == p)
    return EvalReport(
        n=len(items),
        accuracy=correct / len(items),
        macro_f1=sum(s.f1 for s in per_tag.values()) / len(per_tag),
        per_tag=per_tag,
        confusion=confusion,
        ms_per_item=1000 * elapsed / len(items),
        none_expected=gold.count(NONE_LABEL),
        none_predicted=preds.count(NONE_LABEL),
        none_correct=sum(1 for g, p in zip(gold, preds, strict=True) if g == p == NONE_LABEL),
        predictions=preds,
    )


def load_labelled(path: str | Path) -> list[tuple[str, str]]:
    """Read ``(text, label)`` pairs from a CSV (header with ``text`` and ``label``) or JSONL file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"labelled data file {p} does not exist")
    try:
        raw = p.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read labelled data file {p}: {exc}") from exc
    rows: list[tuple[str, str]] = []
    if p.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for lineno, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p} line {lineno}: invalid JSON: {exc.msg}") from exc
            rows.append(_row(obj, p, lineno))
    else:
        reader = csv.DictReader(raw.splitlines())
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise InputError(f"{p}: the CSV needs a header with 'text' and 'label' columns")
        for i, rec in enumerate(reader, start=2):
            rows.append(_row(rec, p, i))
    if not rows:
        raise InputError(f"{p} holds no labelled rows")
    return rows


def _row(obj: object, path: Path, lineno: int) -> tuple[str, str]:
    if not isinstance(obj, dict):
        raise InputError(f"{path} line {lineno}: expected an object with 'text' and 'label'")
    text, label = obj.get("text"), obj.get("label")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{path} line {lineno}: 'text' is missing or empty")
    if not isinstance(label, str) or not label.strip():
        raise InputError(f"{path} line {lineno}: 'label' is missing or empty")
    return text, label.strip()

"""Measure a tagger on labelled data: accuracy, macro-F1, per-tag scores, "none", calibration.

Users run it on their own data (see :func:`load_labelled`: CSV or JSONL of texts, or of
audio files, with labels); the benchmarks use it too. A label ``none`` (case-insensitive),
an empty label or a JSON ``null`` means "no tag fits": the tagger is right on it when it
selects nothing.

Two accuracies: **strict** (the predicted tag is the label) and **lenient** (the predicted tag
is the label or one of the row's accepted alternatives, ``also``). The calibration table asks
whether the best-ranked tag's relevance means what it says: in each tenth of the 0..1 range,
the share of rows whose best-ranked tag is right (the label or an alternative; never on a
"none" row) against the mean relevance there; the expected calibration error is the
row-weighted mean gap.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from earmark.errors import InputError
from earmark.tagging.base import Tagger, TagInput, TagOptions
from earmark.types import TagList, Transcript

__all__ = [
    "NONE_LABEL",
    "CalibrationBin",
    "EvalReport",
    "LabelledItem",
    "RowResult",
    "TagStats",
    "evaluate",
    "load_labelled",
]

NONE_LABEL = "none"
CALIBRATION_BINS = 10
LABELS_FILE = "labels.csv"
"""The labels file a folder of audio files carries (``file,label`` columns)."""


@dataclass(frozen=True)
class LabelledItem:
    """One labelled row: a text, or an audio ``file`` (transcribed before tagging).

    label: the correct tag as written (``None``, ``""`` or ``"none"``: no tag fits).
    also: accepted alternative tags (lenient accuracy).
    transcript: set once ``file`` has been transcribed; it is tagged instead of ``text``.
    predicted: the ``predicted`` (or ``wrong``) column of a corrections file, if any.
    """

    label: str | None
    text: str = ""
    file: Path | None = None
    also: tuple[str, ...] = ()
    id: str = ""
    split: str = ""
    transcript: Transcript | None = None
    predicted: str | None = None

    @property
    def source(self) -> str:
        """What the row shows a person: the file name, or the text."""
        return str(self.file) if self.file is not None else self.text

    def subject(self) -> TagInput:
        """What the tagger reads."""
        if self.transcript is not None:
            return self.transcript
        if self.file is not None and not self.text:
            raise InputError(f"{self.file}: transcribe audio rows before evaluating them")
        return self.text


@dataclass(frozen=True)
class TagStats:
    """Precision, recall and F1 of one label; ``support`` is how many items carry it."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class CalibrationBin:
    """Rows whose best-ranked tag's relevance falls in ``[lo, hi)`` (the last bin includes 1)."""

    lo: float
    hi: float
    count: int
    mean_relevance: float
    share_correct: float


@dataclass(frozen=True)
class RowResult:
    """One row's outcome: ``gold``/``predicted`` are tag names or ``none``.

    top_tag/relevance: the best-ranked tag and its relevance, selected or not.
    """

    gold: str
    predicted: str
    top_tag: str
    relevance: float
    also: tuple[str, ...] = ()
    text: str = ""
    file: str = ""
    id: str = ""

    @property
    def correct(self) -> bool:
        return self.predicted == self.gold

    @property
    def lenient_correct(self) -> bool:
        return self.predicted == self.gold or self.predicted in self.also


@dataclass(frozen=True)
class EvalReport:
    """The outcome of :func:`evaluate`.

    accuracy: share of items whose predicted tag (``best_tag``, or ``none``) is the label.
    lenient_accuracy: the same, also counting an accepted alternative as right.
    macro_f1 / lenient_macro_f1: mean F1 over the labels present in the data (lenient: a
        row predicted as one of its alternatives counts as labelled with it).
    confusion: ``confusion[label][predicted]`` counts (strict labels).
    none_expected/none_predicted/none_correct: counts for the ``none`` label;
    none_right_rate: share of none-labelled rows given no tag; wrongly_none_rate: share of
        tag-labelled rows given none.
    calibration / ece: see the module docstring.
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
    lenient_accuracy: float = 0.0
    lenient_macro_f1: float = 0.0
    none_right_rate: float | None = None
    wrongly_none_rate: float | None = None
    calibration: list[CalibrationBin] = field(default_factory=list, repr=False)
    ece: float = 0.0
    tags: tuple[str, ...] = ()
    threshold: float | None = None
    rows: list[RowResult] = field(default_factory=list, repr=False)

    @property
    def errors(self) -> list[RowResult]:
        """Rows the tagger got wrong even leniently (the rows ``errors.csv`` lists)."""
        return [r for r in self.rows if not r.lenient_correct]

    def metrics(self) -> dict[str, Any]:
        """Everything but the rows, as JSON-ready values (``metrics.json``)."""
        out = asdict(self)
        for key in ("predictions", "rows"):
            out.pop(key)
        out["tags"] = list(self.tags)
        out["errors"] = len(self.errors)
        return out

    def summary(self) -> str:
        """A short human-readable report."""
        lines = [
            f"items: {self.n}  accuracy: {self.accuracy:.3f}  "
            f"lenient: {self.lenient_accuracy:.3f}  macro-F1: {self.macro_f1:.3f}  "
            f"ms/item: {self.ms_per_item:.1f}"
        ]
        width = max([len(n) for n in self.per_tag] + [10])
        lines.append(f"  {'tag':{width}s}  precision  recall     F1  support")
        for name, s in self.per_tag.items():
            lines.append(
                f"  {name:{width}s}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  "
                f"{s.support:7d}"
            )
        if self.none_expected or self.none_predicted:
            lines.append(
                f"  none: expected {self.none_expected}, predicted {self.none_predicted}, "
                f"correct {self.none_correct}"
            )
        parts = []
        if self.none_right_rate is not None:
            parts.append(f"none rows given no tag {self.none_right_rate:.0%}")
        if self.wrongly_none_rate is not None:
            parts.append(f"labelled rows wrongly given none {self.wrongly_none_rate:.0%}")
        if parts:
            lines.append("  " + "; ".join(parts))
        lines.append(f"  calibration error (ECE, 10 bins): {self.ece:.3f}")
        return "\n".join(lines)


def _key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _canonical(label: str | None, names: dict[str, str]) -> str:
    if label is None:
        return NONE_LABEL
    key = _key(label)
    if key in ("", NONE_LABEL):
        return NONE_LABEL
    if key not in names:
        raise InputError(
            f"label {label!r} is not a tag of the list ({', '.join(names.values())}) or 'none'"
        )
    return names[key]


def _as_item(item: LabelledItem | tuple[str, str]) -> LabelledItem:
    if isinstance(item, LabelledItem):
        return item
    text, label = item
    return LabelledItem(label=label, text=text)


def _stats(gold: Sequence[str], preds: Sequence[str], labels: Sequence[str]) -> dict[str, TagStats]:
    per_tag: dict[str, TagStats] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, preds, strict=True) if g == p == label)
        predicted = preds.count(label)
        support = gold.count(label)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        per_tag[label] = TagStats(precision, recall, f1, support)
    return per_tag


def calibration_table(
    relevances: Sequence[float], correct: Sequence[bool], bins: int = CALIBRATION_BINS
) -> tuple[list[CalibrationBin], float]:
    """Reliability bins over 0..1 and the expected calibration error."""
    table: list[CalibrationBin] = []
    ece = 0.0
    n = len(relevances)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [
            i
            for i, r in enumerate(relevances)
            if lo <= r < hi or (b == bins - 1 and r >= hi) or (b == 0 and r < lo)
        ]
        if idx:
            mean_rel = sum(relevances[i] for i in idx) / len(idx)
            share = sum(1 for i in idx if correct[i]) / len(idx)
            ece += len(idx) / n * abs(share - mean_rel)
        else:
            mean_rel = share = 0.0
        table.append(CalibrationBin(round(lo, 2), round(hi, 2), len(idx), mean_rel, share))
    return table, ece


def evaluate(
    tagger: Tagger,
    tags: TagList,
    items: Sequence[LabelledItem | tuple[str, str]],
    options: TagOptions | None = None,
    batch_size: int = 256,
) -> EvalReport:
    """Tag each item and compare the best tag with the label.

    ``items`` are :class:`LabelledItem` rows (audio rows already transcribed) or plain
    ``(text, label)`` pairs. Labels and alternatives must be tag names (case and spacing
    ignored) or ``none``.
    """
    if not items:
        raise InputError("nothing to evaluate: no labelled items")
    rows_in = [_as_item(i) for i in items]
    names = {_key(n): n for n in tags.names}
    gold = [_canonical(r.label, names) for r in rows_in]
    also = [
        tuple(a for a in (_canonical(x, names) for x in r.also) if a != NONE_LABEL) for r in rows_in
    ]
    subjects = [r.subject() for r in rows_in]
    preds: list[str] = []
    tops: list[tuple[str, float]] = []
    threshold: float | None = None
    t0 = time.perf_counter()
    for start in range(0, len(subjects), batch_size):
        for result in tagger.tag_many(subjects[start : start + batch_size], tags, options):
            preds.append(result.best_tag or NONE_LABEL)
            best = result.tags[0] if result.tags else None
            tops.append((best.tag, float(best.relevance)) if best else (NONE_LABEL, 0.0))
            threshold = result.threshold
    elapsed = time.perf_counter() - t0
    n = len(rows_in)
    results = [
        RowResult(
            gold=g,
            predicted=p,
            top_tag=top,
            relevance=rel,
            also=a,
            text=r.transcript.text if r.transcript is not None else r.text,
            file=str(r.file) if r.file is not None else "",
            id=r.id,
        )
        for r, g, p, a, (top, rel) in zip(rows_in, gold, preds, also, tops, strict=True)
    ]
    labels = [t for t in tags.names if t in gold] + ([NONE_LABEL] if NONE_LABEL in gold else [])
    per_tag = _stats(gold, preds, labels)
    lenient_gold = [r.predicted if r.lenient_correct else r.gold for r in results]
    lenient_labels = [t for t in tags.names if t in lenient_gold] + (
        [NONE_LABEL] if NONE_LABEL in lenient_gold else []
    )
    lenient_stats = _stats(lenient_gold, preds, lenient_labels)
    confusion: dict[str, dict[str, int]] = {}
    for g, p in zip(gold, preds, strict=True):
        row = confusion.setdefault(g, {})
        row[p] = row.get(p, 0) + 1
    none_expected = gold.count(NONE_LABEL)
    none_correct = sum(1 for g, p in zip(gold, preds, strict=True) if g == p == NONE_LABEL)
    tagged = n - none_expected
    wrongly_none = sum(1 for g, p in zip(gold, preds, strict=True) if g != NONE_LABEL == p)
    top_right = [r.top_tag == r.gold or r.top_tag in r.also for r in results]
    calibration, ece = calibration_table([r.relevance for r in results], top_right)
    return EvalReport(
        n=n,
        accuracy=sum(r.correct for r in results) / n,
        macro_f1=sum(s.f1 for s in per_tag.values()) / len(per_tag),
        per_tag=per_tag,
        confusion=confusion,
        ms_per_item=1000 * elapsed / n,
        none_expected=none_expected,
        none_predicted=preds.count(NONE_LABEL),
        none_correct=none_correct,
        predictions=preds,
        lenient_accuracy=sum(r.lenient_correct for r in results) / n,
        lenient_macro_f1=sum(s.f1 for s in lenient_stats.values()) / len(lenient_stats),
        none_right_rate=none_correct / none_expected if none_expected else None,
        wrongly_none_rate=wrongly_none / tagged if tagged else None,
        calibration=calibration,
        ece=ece,
        tags=tags.names,
        threshold=threshold,
        rows=results,
    )


# --- reading labelled data ------------------------------------------------------------------

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def load_labelled(path: str | Path) -> list[LabelledItem]:
    """Read labelled rows from a CSV, a JSONL file, or a folder of audio with ``labels.csv``.

    Each row has ``text`` (or ``file``: an audio path relative to the labels file) and
    ``label`` (alias ``gold``; empty, ``none`` or JSON ``null`` = no tag fits); optional
    ``also`` (accepted alternatives: ``|``-separated in CSV, a list in JSONL), ``id`` and
    ``split``.
    """
    p = Path(path)
    if p.is_dir():
        labels = p / LABELS_FILE
        if not labels.is_file():
            raise InputError(
                f"{p} is a folder without {LABELS_FILE}: put a CSV with 'file' and 'label' "
                "columns beside the audio files"
            )
        p = labels
    if not p.is_file():
        raise InputError(f"labelled data file {p} does not exist")
    try:
        raw = p.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read labelled data file {p}: {exc}") from exc
    rows: list[LabelledItem] = []
    if p.suffix.lower() in _JSONL_SUFFIXES:
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
        fields = {f.strip().casefold() for f in reader.fieldnames or ()}
        if not (fields & {"text", "file"}) or not (fields & {"label", "gold"}):
            raise InputError(
                f"{p}: the CSV needs a header with 'text' (or 'file') and 'label' (or 'gold') "
                "columns"
            )
        for i, rec in enumerate(reader, start=2):
            clean = {(k or "").strip().casefold(): v for k, v in rec.items()}
            rows.append(_row(clean, p, i))
    if not rows:
        raise InputError(f"{p} holds no labelled rows")
    return rows


def _row(obj: object, path: Path, lineno: int) -> LabelledItem:
    where = f"{path} line {lineno}"
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected an object with 'text' and 'label'")
    key = "label" if "label" in obj else "gold"
    if key not in obj:
        raise InputError(f"{where}: 'label' is missing (use null, '' or 'none' for no tag)")
    label = obj[key]
    if label is not None and not isinstance(label, str):
        raise InputError(f"{where}: 'label' must be a tag name or none, got {label!r}")
    text, file = obj.get("text"), obj.get("file")
    audio: Path | None = None
    if isinstance(file, str) and file.strip() and not (isinstance(text, str) and text.strip()):
        audio = (path.parent / file.strip()).resolve()
        if not audio.is_file():
            raise InputError(f"{where}: audio file {file.strip()!r} does not exist")
        text = ""
    elif not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: 'text' (or 'file') is missing or empty")
    also_raw = obj.get("also")
    if also_raw is None or also_raw == "":
        also: tuple[str, ...] = ()
    elif isinstance(also_raw, str):
        also = tuple(a.strip() for a in also_raw.split("|") if a.strip())
    elif isinstance(also_raw, list) and all(isinstance(a, str) for a in also_raw):
        also = tuple(a.strip() for a in also_raw if a.strip())
    else:
        raise InputError(f"{where}: 'also' must be a list of tag names (or 'a|b' in CSV)")
    ident = obj.get("id")
    split = obj.get("split")
    predicted = obj.get("predicted", obj.get("wrong"))
    return LabelledItem(
        label=label.strip() if isinstance(label, str) else None,
        text=text if isinstance(text, str) else "",
        file=audio,
        also=also,
        id=str(ident) if ident is not None else "",
        split=split if isinstance(split, str) else "",
        predicted=predicted.strip() if isinstance(predicted, str) and predicted.strip() else None,
    )

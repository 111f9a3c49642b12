"""Write an evaluation report to a folder: ``metrics.json``, ``errors.csv`` and pictures.

The pictures (PNG, drawn with matplotlib's Agg renderer, no display or pyplot state) are:

- ``confusion.png``: correct label (rows) against predicted tag (columns), with counts and a
  "none" row and column; the colour is the share of the row.
- ``calibration.png``: reliability diagram of the best-ranked tag's relevance (10 bins) with
  the diagonal and each bin's row count.
- ``relevance.png``: histograms of the best-ranked tag's relevance for rows tagged right,
  rows tagged wrong and rows where no tag fits, with the threshold.
- ``per_tag.png``: precision and recall bars per tag.

matplotlib is the optional extra ``earmark[report]``; without it :func:`write_report` still
writes the JSON and CSV files and says how to get the pictures.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from earmark.errors import InputError
from earmark.tagging.evaluate import NONE_LABEL, EvalReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ERRORS_COLUMNS", "ReportFiles", "write_errors", "write_pictures", "write_report"]

ERRORS_COLUMNS = ("text", "file", "gold", "predicted", "relevance", "also", "id")
"""The columns of ``errors.csv`` (``earmark tags teach`` reads ``text`` and ``gold``)."""

PICTURES = ("confusion.png", "calibration.png", "relevance.png", "per_tag.png")
MISSING_MATPLOTLIB = "pictures skipped: matplotlib is not installed (pip install 'earmark[report]')"

_GREEN, _RED, _GREY, _BLUE, _ORANGE = "#2e7d32", "#c62828", "#757575", "#1565c0", "#ef6c00"


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote, and why pictures are missing (``None`` if not)."""

    paths: tuple[Path, ...]
    skipped: str | None = None


def write_report(report: EvalReport, directory: str | Path) -> ReportFiles:
    """Write ``metrics.json``, ``errors.csv`` and the four PNG pictures into ``directory``."""
    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the report folder {out}: {exc}") from exc
    metrics = out / "metrics.json"
    metrics.write_text(json.dumps(report.metrics(), indent=2) + "\n", "utf-8")
    errors = write_errors(report, out / "errors.csv")
    try:
        pictures = write_pictures(report, out)
    except ImportError:
        return ReportFiles((metrics, errors), MISSING_MATPLOTLIB)
    return ReportFiles((metrics, errors, *pictures))


def write_errors(report: EvalReport, path: Path) -> Path:
    """Every row tagged wrong (even leniently): the input of ``earmark tags teach``."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ERRORS_COLUMNS)
        for r in report.errors:
            writer.writerow(
                [r.text, r.file, r.gold, r.predicted, f"{r.relevance:.4f}", "|".join(r.also), r.id]
            )
    return path


def write_pictures(report: EvalReport, directory: Path) -> list[Path]:
    """Draw the four pictures; raises ImportError without matplotlib."""
    import matplotlib  # noqa: F401  (ImportError here when the extra is not installed)

    figures = {
        "confusion.png": _confusion(report),
        "calibration.png": _calibration(report),
        "relevance.png": _relevance(report),
        "per_tag.png": _per_tag(report),
    }
    paths = []
    for name, fig in figures.items():
        path = directory / name
        fig.savefig(path, dpi=110)
        paths.append(path)
    return paths


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def _labels(report: EvalReport) -> list[str]:
    """Tags that occur as a label or a prediction, in list order, then ``none``."""
    seen = set(report.confusion)
    for row in report.confusion.values():
        seen.update(row)
    names = [t for t in report.tags if t in seen] or sorted(seen - {NONE_LABEL})
    return [*names, NONE_LABEL]


def _confusion(report: EvalReport) -> Figure:
    labels = _labels(report)
    k = len(labels)
    counts = [[report.confusion.get(g, {}).get(p, 0) for p in labels] for g in labels]
    shares = [[c / max(1, sum(row)) for c in row] for row in counts]
    side = max(5.5, 0.45 * k + 3.4)
    fig = _figure(side + 1.0, side)
    ax = fig.add_subplot()
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    font = 10 if k <= 10 else 9
    for i in range(k):
        for j in range(k):
            if counts[i][j]:
                colour = "white" if shares[i][j] > 0.55 else "black"
                weight = "bold" if i == j else "normal"
                ax.text(
                    j,
                    i,
                    str(counts[i][j]),
                    ha="center",
                    va="center",
                    color=colour,
                    fontsize=font,
                    fontweight=weight,
                )
    ax.set_xticks(range(k), labels, rotation=40, ha="right", rotation_mode="anchor", fontsize=font)
    ax.set_yticks(range(k), labels, fontsize=font)
    ax.set_xlabel("predicted tag")
    ax.set_ylabel("correct label")
    if labels[-1] == NONE_LABEL:  # set the "none" row and column apart
        ax.axhline(k - 1.5, color=_GREY, linewidth=1)
        ax.axvline(k - 1.5, color=_GREY, linewidth=1)
    ax.set_title(
        f"Confusion: {report.n} rows, accuracy {report.accuracy:.1%} "
        f"(lenient {report.lenient_accuracy:.1%})",
        fontsize=11,
    )
    bar = fig.colorbar(image, ax=ax, shrink=0.7)
    bar.set_label("share of the row")
    return fig


def _calibration(report: EvalReport) -> Figure:
    fig = _figure(7.0, 6.6)
    top, low = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    bins = report.calibration
    width = 1.0 / max(1, len(bins))
    centres = [(b.lo + b.hi) / 2 for b in bins]
    used = [b for b in bins if b.count]
    top.bar(
        [(b.lo + b.hi) / 2 for b in used],
        [b.share_correct for b in used],
        width=width * 0.92,
        color=_BLUE,
        alpha=0.75,
        label="share right (best-ranked tag)",
    )
    top.plot(
        [b.mean_relevance for b in used],
        [b.share_correct for b in used],
        "o",
        color=_ORANGE,
        label="mean relevance in the bin",
    )
    top.plot([0, 1], [0, 1], "--", color=_GREY, label="perfect calibration")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1.02)
    top.set_ylabel("share of rows where it is right")
    top.set_title(f"Calibration: expected calibration error {report.ece:.3f}", fontsize=11)
    top.legend(loc="upper center", bbox_to_anchor=(0.5, -0.04), ncol=3, fontsize=8, frameon=False)
    counts = [b.count for b in bins]
    low.bar(centres, counts, width=width * 0.92, color=_GREY)
    for centre, count in zip(centres, counts, strict=True):
        if count:
            low.text(centre, count, str(count), ha="center", va="bottom", fontsize=8)
    low.set_ylim(0, max([*counts, 1]) * 1.3)
    low.set_ylabel("rows")
    low.set_xticks([i / 10 for i in range(11)])
    low.set_xlabel("relevance of the best-ranked tag")
    _integer_axis(low)
    return fig


def _integer_axis(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))


def _relevance(report: EvalReport) -> Figure:
    groups = [
        (
            "tagged right",
            _GREEN,
            [r.relevance for r in report.rows if r.gold != NONE_LABEL and r.lenient_correct],
        ),
        (
            "tagged wrong",
            _RED,
            [r.relevance for r in report.rows if r.gold != NONE_LABEL and not r.lenient_correct],
        ),
        (
            "no tag fits (label none)",
            _GREY,
            [r.relevance for r in report.rows if r.gold == NONE_LABEL],
        ),
    ]
    fig = _figure(7.5, 6.4)
    axes = fig.subplots(3, 1, sharex=True)
    edges = [i / 20 for i in range(21)]
    for ax, (name, colour, values) in zip(axes, groups, strict=True):
        ax.hist(values, bins=edges, color=colour, alpha=0.8, edgecolor="white")
        ax.set_ylabel("rows")
        _integer_axis(ax)
        ax.set_title(f"{name}: {len(values)} rows", fontsize=10, loc="left")
        if report.threshold is not None:
            ax.axvline(report.threshold, color="black", linestyle=":", linewidth=1.2)
    if report.threshold is not None:
        axes[0].text(
            report.threshold,
            axes[0].get_ylim()[1] * 0.95,
            f" threshold {report.threshold:.2f}",
            va="top",
            fontsize=8,
        )
    axes[-1].set_xlim(0, 1)
    axes[-1].set_xlabel("relevance of the best-ranked tag")
    fig.suptitle("Relevance of the best tag: right vs wrong vs none", fontsize=11)
    return fig


def _per_tag(report: EvalReport) -> Figure:
    names = list(report.per_tag)
    k = len(names)
    fig = _figure(8.0, max(3.0, 0.45 * k + 1.6))
    ax = fig.add_subplot()
    ys = list(range(k))
    prec = [report.per_tag[n].precision for n in names]
    rec = [report.per_tag[n].recall for n in names]
    h = 0.38
    ax.barh([y - h / 2 for y in ys], prec, height=h, color=_BLUE, label="precision")
    ax.barh([y + h / 2 for y in ys], rec, height=h, color=_ORANGE, label="recall")
    for y, p, r in zip(ys, prec, rec, strict=True):
        ax.text(p + 0.01, y - h / 2, f"{p:.2f}", va="center", fontsize=8)
        ax.text(r + 0.01, y + h / 2, f"{r:.2f}", va="center", fontsize=8)
    ax.set_yticks(ys, [f"{n} (n={report.per_tag[n].support})" for n in names], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("score")
    ax.set_title(f"Precision and recall per tag (macro-F1 {report.macro_f1:.3f})", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    return fig

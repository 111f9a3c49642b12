"""Is a relevance of 0.8 right about 80% of the time? Reliability of each engine's relevance.

    python benchmarks/calibration_bench.py --fit          # fit the slopes on tune data
    python benchmarks/calibration_bench.py                # report on held-out data + PNGs

What is measured: every (text, tag) pair of a set, with the tag's reported relevance and
whether that tag is acceptable for the text (its gold tag or one of the accepted
alternatives; for a text where no tag fits, none is). "Best tag" restricts it to each
text's top-ranked tag (off-topic texts included: their top tag is never right).

Fit data (``--fit``): the tune halves of the speech development set (all authors) and
``--rows`` rows of each public set taken from the other end of its file, none of them a
row that the report uses. Report data: the test halves and the public rows of
``speech_tagging_bench.py`` (the same rows). For each engine the raw relevance
(calibration off) and the calibrated one are binned in tenths: items, mean relevance,
share right, and the expected calibration error (ECE, the items-weighted mean gap).
``--plot DIR`` writes ``calibration_<engine>.png``: the reliability diagram of both.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import speech_tagging_bench as sb  # noqa: E402
import tagging_bench as tb  # noqa: E402

from earmark.errors import ModelError  # noqa: E402
from earmark.tagging import TagOptions, get_tagger, load_tags  # noqa: E402
from earmark.tagging.calibration import Calibration  # noqa: E402
from earmark.tagging.embedding import EmbeddingTagger  # noqa: E402
from earmark.types import TagList  # noqa: E402

Sets = list[tuple[str, TagList, list[sb.Item]]]
Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]  # relevance, right, is-best-tag


def fit_sets(rows: int) -> Sets:
    """Tune halves and public rows from the other end of each file (none reported)."""
    sets: Sets = [(n, load_tags(p), it) for n, p, it in sb.speech_sets("tune")]
    report = {it.text for _, _, items in sb.public_sets(rows) for it in items}
    read = tb._csv
    tb._csv = lambda path: list(reversed(read(path)))  # type: ignore[assignment]
    try:
        public = sb.public_sets(rows * 2)
    finally:
        tb._csv = read  # type: ignore[assignment]
    for name, tags, items in public:
        sets.append((name, tags, [it for it in items if it.text not in report][:rows]))
    return sets


def report_sets(rows: int) -> Sets:
    """The test halves and the public rows that speech_tagging_bench.py reports."""
    sets: Sets = [(n, load_tags(p), it) for n, p, it in sb.speech_sets("test")]
    return sets + sb.public_sets(rows)


def pairs(tagger: EmbeddingTagger, sets: Sets) -> dict[str, Pairs]:
    """Per set: every pair's relevance, whether the tag is acceptable, whether it ranks first."""
    out: dict[str, Pairs] = {}
    for name, tags, items in sets:
        results = tagger.tag_many([it.text for it in items], tags, TagOptions(per_window=False))
        rel, ok, best = [], [], []
        for it, res in zip(items, results, strict=True):
            accept = set() if it.gold is None else {it.gold, *it.also}
            for k, s in enumerate(res.tags):
                rel.append(s.relevance)
                ok.append(s.tag in accept)
                best.append(k == 0)
        out[name] = (np.array(rel), np.array(ok, bool), np.array(best, bool))
    return out


def fit(all_pairs: dict[str, Pairs]) -> Calibration:
    """Platt scaling: the slope and offset on logit(raw) that make the pairs most likely.

    Each set weighs the same in total (a 15-tag list has three times the pairs of a 5-tag
    one, and the public sets would otherwise outweigh speech two to one).
    """
    r = np.clip(np.concatenate([p[0] for p in all_pairs.values()]), 1e-6, 1 - 1e-6)
    y = np.concatenate([p[1] for p in all_pairs.values()]).astype(np.float64)
    sw = np.concatenate([np.full(len(p[0]), 1.0 / len(p[0])) for p in all_pairs.values()])
    sw *= len(sw) / sw.sum()
    x = np.c_[np.log(r / (1 - r)), np.ones_like(r)]
    w = np.array([1.0, 0.0])

    def loglik(v: np.ndarray) -> float:
        t = x @ v
        return float(np.sum(sw * (y * t - np.logaddexp(0.0, t))))

    for _ in range(200):  # Newton's method with step halving (the likelihood never drops)
        p = 1 / (1 + np.exp(-np.clip(x @ w, -50, 50)))
        hessian = (x * (sw * p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, x.T @ (sw * (y - p)))
        base = loglik(w)
        while loglik(w + step) < base and np.abs(step).max() > 1e-12:
            step /= 2
        w += step
        if np.abs(step).max() < 1e-9:
            break
    return Calibration(slope=round(float(w[0]), 3), offset=round(float(w[1]), 3))


def table(r: np.ndarray, y: np.ndarray) -> tuple[list[str], float]:
    """Markdown rows of a tenths reliability table, and the ECE."""
    rows, gap = [], 0.0
    bins = np.minimum((r * 10).astype(int), 9)
    for b in range(10):
        m = bins == b
        if not m.any():
            rows.append(f"| {b / 10:.1f}-{(b + 1) / 10:.1f} | 0 | - | - |")
            continue
        gap += m.sum() * abs(r[m].mean() - y[m].mean())
        rows.append(
            f"| {b / 10:.1f}-{(b + 1) / 10:.1f} | {m.sum()} | {r[m].mean():.3f} | {y[m].mean():.3f} |"
        )
    return rows, gap / max(len(r), 1)


def plot(path: Path, curves: Sequence[tuple[str, np.ndarray, np.ndarray]], title: str) -> None:
    """A reliability diagram: share right against mean relevance per tenth, per curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharey=True)
    for ax, view in zip(axes, ("every text-tag pair", "each text's best tag"), strict=True):
        ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect")
        for label, r, y in curves:
            if view.startswith("each") != label.endswith("(best)"):
                continue
            bins = np.minimum((r * 10).astype(int), 9)
            full = [b for b in range(10) if (bins == b).sum() >= 5]
            xs = [r[bins == b].mean() for b in full]
            ys = [y[bins == b].mean() for b in full]
            (line,) = ax.plot(xs, ys, marker="o", label=label.replace(" (best)", ""))
            for b, x_, y_ in zip(full, xs, ys, strict=True):  # how many pairs each point is
                ax.annotate(
                    str((bins == b).sum()),
                    (x_, y_),
                    textcoords="offset points",
                    xytext=(4, -10),
                    fontsize=6,
                    color=line.get_color(),
                )
        ax.set_title(view)
        ax.set_xlabel("reported relevance (mean of the tenth)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    axes[0].set_ylabel("share of those tags that are right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--fit", action="store_true", help="fit the slopes on the tune data")
    ap.add_argument("--rows", type=int, default=200, help="rows per public set")
    ap.add_argument("--engines", default="embedding,accurate,static")
    ap.add_argument("--plot", type=Path, default=None, help="write the PNGs to this folder")
    args = ap.parse_args()
    sets = fit_sets(args.rows) if args.fit else report_sets(args.rows)
    for engine in args.engines.split(","):
        try:
            shipped = get_tagger(engine)
        except ModelError as exc:
            print(f"{engine}: skipped ({exc})")
            continue
        assert isinstance(shipped, EmbeddingTagger)
        raw = EmbeddingTagger(shipped.encoder, replace(shipped.config, calibration=None))
        got = pairs(raw, sets)
        if args.fit:
            print(f"{engine}: fitted {fit(got)} on {sum(len(p[0]) for p in got.values())} pairs")
            continue
        cal = shipped.config.calibration or Calibration()
        print(f"\n### {engine} (shipped {cal}, default threshold {shipped.default_threshold})\n")
        curves = []
        for view in ("all", "best"):
            r = np.concatenate([p[0][p[2]] if view == "best" else p[0] for p in got.values()])
            y = np.concatenate([p[1][p[2]] if view == "best" else p[1] for p in got.values()])
            c = cal.apply(r.astype(np.float32)).astype(np.float64)
            suffix = " (best)" if view == "best" else ""
            curves += [(f"raw{suffix}", r, y), (f"calibrated{suffix}", c, y)]
            for label, values in (("raw", r), ("calibrated", c)):
                rows, ece = table(values, y)
                what = "best tag of each text" if view == "best" else "every text-tag pair"
                print(f"{label}, {what}: {len(values)} pairs, ECE {ece:.3f}\n")
                print("| relevance | pairs | mean relevance | share right |\n|---|---|---|---|")
                print("\n".join(rows) + "\n")
        per_set = []
        for name, (r, y, _best) in got.items():
            _, e0 = table(r, y)
            _, e1 = table(cal.apply(r.astype(np.float32)).astype(np.float64), y)
            per_set.append(f"| {name} | {len(r)} | {e0:.3f} | {e1:.3f} |")
        print("| set | pairs | ECE raw | ECE calibrated |\n|---|---|---|---|")
        print("\n".join(per_set))
        if args.plot is not None:
            args.plot.mkdir(parents=True, exist_ok=True)
            plot(args.plot / f"calibration_{engine}.png", curves, f"{engine}: held-out data")


if __name__ == "__main__":
    main()

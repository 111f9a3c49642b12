"""Learning from corrections on the speech development sets (``earmark tags teach``).

For each set (``support`` and, if present, ``media`` in ``benchmarks/speech_dev``): tag the
**test** half with the preset (default threshold, as ``earmark eval`` does), then teach the
preset with 1, 5 and 20 corrections per tag drawn from the **tune** half: first the tune rows
the preset tags wrong (lenient), then, if a tag has too few errors, its other tune rows, in
file order. Re-tag the test half with each taught list. Rows labelled none teach nothing.

    python benchmarks/teach_bench.py [--lexical]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from earmark.tagging import get_tagger, load_tags
from earmark.tagging.base import TagOptions
from earmark.tagging.evaluate import NONE_LABEL, EvalReport, evaluate, load_labelled
from earmark.tagging.teach import Correction, tagger_relevance, teach_with_summary

DEV = Path(__file__).resolve().parent / "speech_dev"
SHOTS = (1, 5, 20)


def _line(name: str, shots: str, used: str, r: EvalReport) -> str:
    return (
        f"| {name} | {shots} | {used} | {r.accuracy:.3f} | {r.lenient_accuracy:.3f} | "
        f"{r.macro_f1:.3f} | {r.lenient_macro_f1:.3f} |"
    )


def run(preset: str, lexical: bool) -> list[str]:
    items = load_labelled(DEV / f"{preset}.jsonl")
    tune = [i for i in items if i.split == "tune"]
    test = [i for i in items if i.split == "test"]
    tags = load_tags(preset)
    tagger = get_tagger("embedding")
    opts = TagOptions()
    base = evaluate(tagger, tags, test, opts)
    tuned = evaluate(tagger, tags, tune, opts)
    out = [_line(preset, "0 (preset)", "-", base)]
    pools: dict[str, list[Correction]] = {t: [] for t in tags.names}
    for row in tuned.rows:  # errors first
        if row.gold != NONE_LABEL and not row.lenient_correct:
            pools[row.gold].append(Correction(row.text, row.gold, row.predicted))
    n_errors = {t: len(p) for t, p in pools.items()}
    for row in tuned.rows:  # then the other rows of the tag
        if row.gold != NONE_LABEL and row.lenient_correct:
            pools[row.gold].append(Correction(row.text, row.gold, None))
    relevance = None if lexical else tagger_relevance(tagger, tags)
    for k in SHOTS:
        chosen = [c for pool in pools.values() for c in pool[:k]]
        errors_used = sum(min(k, n_errors[t]) for t in pools)
        taught, summary = teach_with_summary(tags, chosen, relevance=relevance)
        r = evaluate(tagger, taught, test, opts)
        used = f"{sum(summary.added.values())} ({errors_used} errors)"
        out.append(_line(preset, str(k), used, r))
    print(
        f"{preset}: tune {len(tune)} rows ({sum(n_errors.values())} errors), test {len(test)}",
        file=sys.stderr,
    )
    return out


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lexical", action="store_true", help="choose passages by shared words")
    args = ap.parse_args()
    t0 = time.perf_counter()
    print(f"machine: {_cpu()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("| set | corrections per tag | examples added | accuracy | lenient accuracy | "
          "macro-F1 | lenient macro-F1 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for preset in ("support", "media"):
        if (DEV / f"{preset}.jsonl").is_file():
            for line in run(preset, args.lexical):
                print(line, flush=True)
    print(f"total {time.perf_counter() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

"""PII redaction benchmark on the hand-written development set (benchmarks/pii_dev/).

Per policy: recall (a gold span is found when the redaction covers all of its words,
whatever label it got; "typed" also wants the right label) and precision (of the words
redacted under a policy, the share inside some gold span), plus the speed in ms per
1,000 words (gazetteers already loaded; their one-time load is reported apart)::

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/pii_bench.py [--show] [--file dev.txt]

``--show`` prints every miss and every false positive.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from earmark.redact import POLICIES, RedactOptions, redact
from earmark.types import Segment, Transcript, Word

HERE = Path(__file__).resolve().parent / "pii_dev"
_MARK = re.compile(r"\[\[([a-z_]+)\|([^\]]+)\]\]")
WORD_MS = 300


@dataclass(frozen=True)
class Example:
    text: str
    gold: tuple[tuple[str, frozenset[int]], ...]
    """(policy, word indices) per gold span."""
    section: str


def parse(path: Path) -> list[Example]:
    out: list[Example] = []
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        text = ""
        spans: list[tuple[str, int, int]] = []
        pos = 0
        for m in _MARK.finditer(line):
            text += line[pos : m.start()]
            spans.append((m.group(1), len(text), len(text) + len(m.group(2))))
            text += m.group(2)
            pos = m.end()
        text += line[pos:]
        # word index of every character
        starts = [m.start() for m in re.finditer(r"\S+", text)]
        ends = [m.end() for m in re.finditer(r"\S+", text)]
        gold = []
        for policy, s, e in spans:
            if policy not in POLICIES:
                raise SystemExit(f"unknown policy {policy!r} in: {line}")
            idx = frozenset(
                i for i, (a, b) in enumerate(zip(starts, ends, strict=True)) if a < e and b > s
            )
            gold.append((policy, idx))
        out.append(Example(text, tuple(gold), section))
    return out


def transcript(text: str) -> Transcript:
    words = tuple(
        Word(w, i * WORD_MS, i * WORD_MS + WORD_MS - 50, 0.9) for i, w in enumerate(text.split())
    )
    end = len(words) * WORD_MS
    return Transcript(
        text=text,
        segments=(Segment(0, 0, end, text, words),),
        language="en",
        language_probability=1.0,
        duration_ms=end,
    )


def predicted(ex: Example, options: RedactOptions) -> dict[int, str]:
    """Word index -> policy of the redactions."""
    result = redact(transcript(ex.text), options)
    out: dict[int, str] = {}
    for span in result.spans:
        for i in range(span.start_ms // WORD_MS, (span.end_ms - 1) // WORD_MS + 1):
            out[i] = span.policy
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", default=str(HERE / "dev.txt"))
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    examples = parse(Path(args.file))
    options = RedactOptions(POLICIES, "hash")

    t0 = time.perf_counter()
    redact(transcript("warm up the gazetteers"), options)
    load_s = time.perf_counter() - t0

    found = defaultdict(int)
    typed = defaultdict(int)
    total = defaultdict(int)
    tp_words = defaultdict(int)
    pred_words = defaultdict(int)
    neg_lines = neg_fp_lines = 0
    for ex in examples:
        pred = predicted(ex, options)
        gold_words = set().union(*(idx for _, idx in ex.gold)) if ex.gold else set()
        words = ex.text.split()
        for policy, idx in ex.gold:
            total[policy] += 1
            if all(i in pred for i in idx):
                found[policy] += 1
                if all(pred[i] == policy for i in idx):
                    typed[policy] += 1
            elif args.show:
                got = " ".join(w if i not in pred else f"<{w}>" for i, w in enumerate(words))
                print(f"MISS {policy:26} {' '.join(words[i] for i in sorted(idx))!r}\n     {got}")
        for i, policy in pred.items():
            pred_words[policy] += 1
            if i in gold_words:
                tp_words[policy] += 1
        fps = [i for i in pred if i not in gold_words]
        if ex.section == "negatives":
            neg_lines += 1
            neg_fp_lines += bool(pred)
        if fps and args.show:
            got = " ".join(w if i not in pred else f"<{w}:{pred[i]}>" for i, w in enumerate(words))
            print(f"FP   {got}")

    n_words = sum(len(ex.text.split()) for ex in examples)
    reps = 3
    t0 = time.perf_counter()
    for _ in range(reps):
        for ex in examples:
            redact(transcript(ex.text), options)
    ms_per_1k = (time.perf_counter() - t0) * 1000 / (reps * n_words) * 1000

    rows = []
    policies = sorted(set(total) | set(pred_words))
    for p in policies:
        rec = found[p] / total[p] if total[p] else float("nan")
        rec_t = typed[p] / total[p] if total[p] else float("nan")
        prec = tp_words[p] / pred_words[p] if pred_words[p] else float("nan")
        rows.append((p, total[p], rec, rec_t, pred_words[p], prec))
    all_gold = sum(total.values())
    print("| policy | gold spans | recall | recall (right label) | redacted words | precision |")
    print("|---|---:|---:|---:|---:|---:|")
    for p, n, rec, rec_t, pw, prec in rows:
        print(f"| {p} | {n} | {rec:.2f} | {rec_t:.2f} | {pw} | {prec:.2f} |")
    print(
        f"| **all** | {all_gold} | {sum(found.values()) / all_gold:.2f} | "
        f"{sum(typed.values()) / all_gold:.2f} | {sum(pred_words.values())} | "
        f"{sum(tp_words.values()) / max(1, sum(pred_words.values())):.2f} |"
    )
    print()
    print(
        f"{len(examples)} utterances ({len(examples) - neg_lines} with PII, {neg_lines} hard "
        f"negatives, {neg_fp_lines} of them with a false redaction), {n_words} words"
    )
    print(f"speed: {ms_per_1k:.1f} ms per 1,000 words; first-call gazetteer load {load_s:.2f} s")


if __name__ == "__main__":
    main()

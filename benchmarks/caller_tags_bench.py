"""Tags per speaker on support calls: the caller's words alone vs the whole call.

    python benchmarks/caller_tags_bench.py [--split test|tune|both] [--engine embedding]

The support-call development set (``support.jsonl`` and ``support_na.jsonl``) keeps who said
what in ``turns``. Each call is tagged with the ``support`` preset three ways: the whole
call, the caller's words alone, and the agent's alone (the same transcript split by
speaker, as ``custom_tags: {"speaker": ...}`` does on a speaker-labelled recording).
Lenient accuracy: the best tag is the gold tag or an accepted alternative; a call whose
gold is null is right when no tag fits.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from earmark.tagging import get_tagger, load_tags  # noqa: E402
from earmark.tagging.base import TagOptions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="both", choices=["tune", "test", "both"])
    parser.add_argument("--engine", default="embedding")
    parser.add_argument(
        "--files",
        nargs="+",
        default=["support.jsonl", "support_na.jsonl"],
        help="support-call files of benchmarks/speech_dev (both authors by default)",
    )
    args = parser.parse_args()
    rows = [
        json.loads(line)
        for name in args.files
        for line in (ROOT / "benchmarks/speech_dev" / name).open()
        if line.strip()
    ]
    if args.split != "both":
        rows = [r for r in rows if r["split"] == args.split]
    tags = load_tags("support")
    tagger = get_tagger(args.engine)
    options = TagOptions(per_window=False)
    print(f"{len(rows)} calls ({args.split}), engine {args.engine}\n")
    print("| text tagged | lenient accuracy | strict | ms per call |")
    print("|---|---|---|---|")
    for name in ("whole call", "caller only", "agent only"):
        right = strict = 0
        started = time.perf_counter()
        for r in rows:
            if name == "whole call":
                text = r["text"]
            else:
                who = "caller" if name == "caller only" else "agent"
                text = " ".join(t["text"] for t in r["turns"] if t["speaker"] == who)
            best = tagger.tag(text, tags, options).best_tag
            ok = best is None if r["gold"] is None else best in [r["gold"], *r.get("also", [])]
            right += ok
            strict += best == r["gold"]
        ms = (time.perf_counter() - started) * 1000 / len(rows)
        n = len(rows)
        print(f"| {name} | {right / n:.3f} ({right}/{n}) | {strict / n:.3f} | {ms:.0f} |")


if __name__ == "__main__":
    main()

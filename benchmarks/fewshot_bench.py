"""Few-shot benchmark: how much should each example count when it teaches a tag?

k examples per tag are drawn (fixed seed) from rows that are not evaluated: BANKING77 even
rows (support preset), AG News even rows (AG tags), HuffPost rows 2,001-10,000 (media
preset). Evaluated on BANKING77 odd rows, 2,000 AG News odd rows and the first 2,000
HuffPost rows, each split tune/report by even/odd position; the top tag is always taken.
Each cell is tune/report accuracy for one ``EmbeddingConfig.example_weight``.

    python benchmarks/fewshot_bench.py
    python benchmarks/fewshot_bench.py --k 5 --weights 0 0.25 1
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tagging_bench as tb

from earmark.tagging.base import TagOptions
from earmark.tagging.embedding import EmbeddingConfig, EmbeddingTagger
from earmark.tagging.encoder import get_encoder
from earmark.tagging.evaluate import evaluate
from earmark.tagging.taglist import load_tags
from earmark.types import TagList

Rows = list[tuple[str, str]]


def _with_examples(base: TagList, pool: Rows, k: int, rng: random.Random) -> TagList:
    by: dict[str, list[str]] = {}
    for text, label in pool:
        by.setdefault(label, []).append(text)
    spec: dict[str, object] = {}
    for t in base.tags:
        have = by.get(t.name, [])
        spec[t.name] = {
            "description": t.description,
            "examples": rng.sample(have, min(k, len(have))),
        }
    return load_tags(spec)


def _sets() -> dict[str, tuple[TagList, Rows, Rows]]:
    d = tb.data_dir()
    coarse = {
        r["banking77_intent"]: r["coarse_callcentre_category"]
        for r in tb._csv(d / "banking77/intent_to_coarse_category.csv")
    }
    bank = [
        (r["text"], tb.BANK_MAP[coarse[r["category"]]]) for r in tb._csv(d / "banking77/test.csv")
    ]
    ag = [
        (f"{r['title']}. {r['description']}", tb.AG_MAP[r["label"]])
        for r in tb._csv(d / "ag_news/test.csv")
    ]
    hp = [
        (f"{r['headline']}. {r['short_description']}".strip(), r["mapped_tag"])
        for r in tb._csv(d / "huffpost_news_category/huffpost_2018-2022_subset.csv")
    ]
    return {
        "BANKING77": (load_tags("support"), bank[0::2], bank[1::2]),
        "AG News": (tb.load_tags(tb.AG_TAGS), ag[0::2], ag[1::2][:2000]),
        "HuffPost": (load_tags("media"), hp[2000:], hp[:2000]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--k", type=int, nargs="+", default=[1, 5, 20], help="examples per tag")
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 0.25, 0.5, 1.0])
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    encoder = get_encoder()
    taggers = [
        EmbeddingTagger(encoder, replace(EmbeddingConfig(), example_weight=w)) for w in args.weights
    ]
    opts = TagOptions(threshold=0.0, per_window=False)
    print("| k | dataset | " + " | ".join(f"weight {w:g}" for w in args.weights) + " |")
    print("|---|---|" + "---|" * len(args.weights))
    sets = _sets()
    for k in args.k:
        for name, (base, pool, rows) in sets.items():
            tags = _with_examples(base, pool, k, rng)
            cells = []
            for t in taggers:
                tune = evaluate(t, tags, rows[0::2], opts).accuracy
                report = evaluate(t, tags, rows[1::2], opts).accuracy
                cells.append(f"{tune:.3f}/{report:.3f}")
            print(f"| {k} | {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

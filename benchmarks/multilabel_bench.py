"""Multi-label benchmark: does ``selected`` hold the topics a text is about, and only those?

No multi-label topic set ships in ../shared/data, so this one is built from single-label
ones, with a fixed seed: texts made of the first sentences of one, two or three articles
of *different* classes, whose gold set is those classes.

- ``BBC xN``: N BBC articles (5 or 3/2/2 sentences of each), tagged with the 15-tag
  ``media`` preset (Business also accepts Finance, Technology Science, Entertainment
  Culture and Politics World News when precision is counted: those are fair calls).
- ``AG xN``: N AG News items (title + description, odd rows), tagged with the 4 AG tags.
- ``BBC long``: three whole BBC articles of different classes as a 5-minute-style
  transcript (several windows); also reports the share of windows whose best tag is the
  class of the article that fills most of the window, or a fair call for it ("which tag
  applies where"), the tags selected per window and their precision.
- ``Earnings calls`` (``--long``): the 44 full Earnings-21 calls (about an hour, ~10k words
  each), media tags; gold is the sector's tag from ``sector_to_tag_map.csv`` (Healthcare:
  Health + Business, Technology: Technology + Business, Financial: Finance, the rest
  Business); Business and Finance are fair calls for each other.
- ``QMSum meetings`` (``--long``): real meeting transcripts (``--n``/5 of each kind: AMI
  product design, ICSI research, education and covid-19 committees), media tags; gold is
  the dataset's suggested tags for the meeting's domain (e.g. Health + Politics).

For each set: mean number of tags selected, precision (share of selected tags that are
gold or fair), recall (share of gold tags selected), their F1, and exact (all gold tags
selected). ``before`` is the tagger with the spread gate and sentence coverage off (the
selection rule before session 3), in the same run.

    python benchmarks/multilabel_bench.py
    python benchmarks/multilabel_bench.py --engine static
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tagging_bench as tb

from earmark.tagging import get_tagger
from earmark.tagging.base import TagOptions
from earmark.tagging.embedding import EmbeddingTagger
from earmark.tagging.taglist import load_tags
from earmark.tagging.windows import split_sentences
from earmark.types import TagList, Transcript

FAIR = {
    "Business": {"Finance"},
    "Technology": {"Science"},
    "Entertainment": {"Culture"},
    "Politics": {"World News"},
    "Finance": {"Business"},
}
SECTORS = {
    "Financial": ["Finance"],
    "Healthcare": ["Health", "Business"],
    "Technology": ["Technology", "Business"],
}
Item = tuple[str | Transcript, list[str]]


def _bbc_sets(rng: random.Random, n: int) -> dict[str, list[Item]]:
    pool: dict[str, list[dict[str, str]]] = {}
    for r in tb._csv(tb.data_dir() / "bbc_news/bbc_news.csv"):
        pool.setdefault(tb.BBC_MAP[r["category"]], []).append(r)
    for rows in pool.values():
        rng.shuffle(rows)
    cats = sorted(pool)

    def first(c: str, k: int) -> str:
        return " ".join(split_sentences(pool[c].pop()["text"])[:k])

    out: dict[str, list[Item]] = {"BBC x1": [], "BBC x2": [], "BBC x3": [], "BBC long": []}
    for i in range(n):
        c = cats[i % len(cats)]
        out["BBC x1"].append((first(c, 5), [c]))
    for _ in range(n):
        a, b = rng.sample(cats, 2)
        out["BBC x2"].append((first(a, 3) + " " + first(b, 3), [a, b]))
    for _ in range(n // 2):
        three = rng.sample(cats, 3)
        out["BBC x3"].append((" ".join(first(c, 2) for c in three), three))
    for _ in range(n // 5):
        three = rng.sample(cats, 3)
        words: list[str] = []
        owner: list[str] = []
        for c in three:
            w = pool[c].pop()["text"].split()[:300]
            words += w
            owner += [c] * len(w)
        tr = tb.transcript_of(words)
        out["BBC long"].append((tr, three))
        _OWNERS[id(tr)] = owner
    return out


_OWNERS: dict[int, list[str]] = {}


def _ag_sets(rng: random.Random, n: int) -> dict[str, list[Item]]:
    pool: dict[str, list[str]] = {}
    for r in tb._csv(tb.data_dir() / "ag_news/test.csv")[1::2]:
        pool.setdefault(tb.AG_MAP[r["label"]], []).append(f"{r['title']}. {r['description']}")
    for rows in pool.values():
        rng.shuffle(rows)
    cats = sorted(pool)
    one: list[Item] = [(pool[cats[i % 4]].pop(), [cats[i % 4]]) for i in range(n)]
    two: list[Item] = []
    for _ in range(n):
        a, b = rng.sample(cats, 2)
        two.append((pool[a].pop() + " " + pool[b].pop(), [a, b]))
    return {"AG x1": one, "AG x2": two}


def _long_sets(n: int) -> dict[str, list[Item]]:
    d = tb.data_dir()
    calls: list[Item] = []
    with open(d / "earnings21/transcripts.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            calls.append((r["text"], SECTORS.get(r["sector"], ["Business"])))
    meetings: list[Item] = []
    per_kind: dict[str, int] = {}
    with open(d / "qmsum/meetings.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if per_kind.get(r["subdomain"], 0) >= max(1, n // 5):
                continue
            per_kind[r["subdomain"]] = per_kind.get(r["subdomain"], 0) + 1
            text = " ".join(t["text"] for t in r["transcript"])
            meetings.append((text, list(r["suggested_tags"])))
    return {"Earnings calls": calls, "QMSum meetings": meetings}


def _score(tagger: EmbeddingTagger, tags: TagList, items: list[Item]) -> str:
    results = tagger.tag_many([x for x, _ in items], tags, TagOptions(per_window=True))
    n = prec = rec = exact = 0.0
    win_ok = win_all = win_sel = 0
    win_prec = 0.0
    for (item, gold_list), res in zip(items, results, strict=True):
        gold = set(gold_list)
        fair = gold.union(*(FAIR.get(g, set()) for g in gold))
        sel = set(res.selected)
        n += len(sel)
        prec += len(sel & fair) / len(sel) if sel else 0.0
        rec += len(sel & gold) / len(gold)
        exact += gold <= sel
        owner = _OWNERS.get(id(item))
        if owner is not None:
            cursor = 0  # windows partition the transcript's words, in order
            for w in res.segments:
                size = len(w.text.split())
                here = owner[cursor : cursor + size]
                cursor += size
                main = max(set(here), key=here.count)
                present = set(here)
                fair_here = present.union(*(FAIR.get(g, set()) for g in present))
                win_all += 1
                win_ok += bool(w.tags) and w.tags[0].tag in {main} | FAIR.get(main, set())
                win_sel += len(w.selected)
                win_prec += len(set(w.selected) & fair_here) / len(w.selected) if w.selected else 0
    k = len(items)
    p, r = prec / k, rec / k
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    where = " |"
    if win_all:
        where = (
            f" | best right {win_ok}/{win_all}, {win_sel / win_all:.1f} selected, "
            f"precision {win_prec / win_all:.2f} |"
        )
    return f"{k} | {n / k:.2f} | {p:.2f} | {r:.2f} | {f1:.2f} | {exact / k:.2f}{where}"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=150, help="texts per single/pair set")
    ap.add_argument("--engine", choices=("embedding", "static"), default="embedding")
    ap.add_argument("--spread", type=float, default=None, help="override the spread gate")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--long", action="store_true", help="also earnings calls and meetings")
    args = ap.parse_args()
    tagger = get_tagger(args.engine)
    assert isinstance(tagger, EmbeddingTagger)
    if args.spread is not None:
        tagger = EmbeddingTagger(tagger.encoder, replace(tagger.config, spread=args.spread))
    before = EmbeddingTagger(
        tagger.encoder, replace(tagger.config, spread=None, sentence_coverage=False)
    )
    rng = random.Random(args.seed)
    media = load_tags("media")
    sets = [(media, _bbc_sets(rng, args.n)), (tb.load_tags(tb.AG_TAGS), _ag_sets(rng, args.n))]
    if args.long:
        sets.append((media, _long_sets(args.n)))
    print(f"engine {args.engine}, config {tagger.config}")
    print("| set | rule | texts | tags selected | precision | recall | F1 | exact | windows |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tags, by_name in sets:
        for name, items in by_name.items():
            for label, t in (("before", before), ("earmark", tagger)):
                print(f"| {name} | {label} | {_score(t, tags, items)}", flush=True)


if __name__ == "__main__":
    main()

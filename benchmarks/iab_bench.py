"""IAB Content Taxonomy 2.1 benchmark: tier-1 accuracy of ``iab_categories``.

    python benchmarks/iab_bench.py                      # BBC 60 per class, HuffPost 25 per class
    python benchmarks/iab_bench.py --bbc-per-class 100 --huffpost-per-class 40

Each item's gold is the IAB tier-1 topic(s) its dataset category maps to (``BBC_MAP``,
``HUFFPOST_MAP`` below; a category that maps to several, such as entertainment, counts as
right for any of them; HuffPost categories without a fitting tier-1 topic are skipped). Rows
are the first N of each category in file order. Scored, in the same run, with the same
tagger (MiniLM embedding tagger, int8, as the server uses):

- ``hierarchical``: :func:`earmark.jobs.iab.iab_categories` (what ``iab_categories: true``
  does): tier 1 first, then the descendants of the relevant tier-1 topics; the top label's
  tier-1 topic is the answer;
- ``flat``: all 698 topics scored as one list (:func:`earmark.jobs.iab.iab_flat`), the top
  label's tier-1 topic;
- ``tier-1 names only``: the 29 tier-1 topics described by their name alone (no children's
  names), to show what describing a category by its children adds.

Milliseconds per item are per call, one item at a time (the first call, which builds the tag
vectors, is left out).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from earmark.jobs.iab import iab_categories, iab_flat, taxonomy, tier1_tags  # noqa: E402
from earmark.tagging import get_tagger  # noqa: E402
from earmark.tagging.base import Tagger  # noqa: E402
from earmark.types import Tag, TagList  # noqa: E402

# dataset category -> the IAB tier-1 topic names that count as right. "Entertainment" (BBC:
# film, music, TV, theatre, books and their awards; HuffPost: celebrities, TV, film, music)
# spans several tier-1 topics: Fine Art holds Theater, Opera and Dance, Events and
# Attractions holds Awards Shows and Theater Venues and Events. "Tech" includes games.
ENTERTAINMENT = (
    "Movies",
    "Television",
    "Music and Audio",
    "Pop Culture",
    "Books and Literature",
    "Fine Art",
    "Events and Attractions",
)
TECH = ("Technology & Computing", "Video Gaming")
BBC_MAP: dict[str, tuple[str, ...]] = {
    "business": ("Business and Finance",),
    "entertainment": ENTERTAINMENT,
    "politics": ("News and Politics",),
    "sport": ("Sports",),
    "tech": TECH,
}
HUFFPOST_MAP: dict[str, tuple[str, ...]] = {
    "POLITICS": ("News and Politics",),
    "WORLD NEWS": ("News and Politics",),
    "U.S. NEWS": ("News and Politics",),
    "CRIME": ("News and Politics",),  # News and Politics > Crime
    "ENTERTAINMENT": ENTERTAINMENT,
    "SPORTS": ("Sports",),
    "STYLE & BEAUTY": ("Style & Fashion",),
    "HOME & LIVING": ("Home & Garden",),
    "WELLNESS": ("Healthy Living",),
    "PARENTING": ("Family and Relationships",),
    "FOOD & DRINK": ("Food & Drink",),
    "BUSINESS": ("Business and Finance",),
    "MONEY": ("Personal Finance",),
    "TECH": TECH,
    "SCIENCE": ("Science",),
    "ENVIRONMENT": ("Science",),  # Science > Environment
    "RELIGION": ("Religion & Spirituality",),
    "TRAVEL": ("Travel",),
    "EDUCATION": ("Education",),
    "CULTURE & ARTS": ("Fine Art", "Books and Literature"),
    # skipped: COMEDY, MEDIA, WEIRD NEWS, BLACK VOICES, WOMEN, QUEER VOICES, IMPACT,
    # LATINO VOICES, WEDDINGS (no tier-1 topic of their own)
}

Item = tuple[str, tuple[str, ...], str]  # text, accepted tier-1 names, dataset category


def data_dir() -> Path:
    env = os.environ.get("EARMARK_SHARED_DIR")
    return (Path(env) if env else ROOT.parent / "shared") / "data"


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _first(rows: list[Item], per_class: int) -> list[Item]:
    seen: Counter[str] = Counter()
    out = []
    for row in rows:
        if seen[row[2]] < per_class:
            out.append(row)
            seen[row[2]] += 1
    return out


def bbc(per_class: int) -> list[Item]:
    rows = _csv(data_dir() / "bbc_news/bbc_news.csv")
    items = [(f"{r['title']}. {r['text']}", BBC_MAP[r["category"]], r["category"]) for r in rows]
    return _first(items, per_class)


def huffpost(per_class: int) -> list[Item]:
    rows = _csv(data_dir() / "huffpost_news_category/huffpost_2018-2022_subset.csv")
    items = [
        (f"{r['headline']}. {r['short_description']}", HUFFPOST_MAP[r["category"]], r["category"])
        for r in rows
        if r["category"] in HUFFPOST_MAP
    ]
    return _first(items, per_class)


def _tier1_names() -> dict[str, str]:
    """Tier-1 label (``Home&Garden``) -> tier-1 name (``Home & Garden``)."""
    return {t.label: t.tiers[0] for t in taxonomy() if t.tier == 1}


def name_only_tier1() -> TagList:
    tags = tuple(Tag(name=t.tiers[0], description=t.tiers[0]) for t in taxonomy() if t.tier == 1)
    return TagList(tags=tags, name="iab-tier1-names")


def run(
    items: list[Item], method: Callable[[str], str]
) -> tuple[float, float, Counter[tuple[str, str]]]:
    """Accuracy, ms per item, and the (category, wrong answer) counts."""
    method(items[0][0])  # builds and caches the tag vectors
    right = 0
    wrong: Counter[tuple[str, str]] = Counter()
    start = time.perf_counter()
    for text, gold, category in items:
        answer = method(text)
        if answer in gold:
            right += 1
        else:
            wrong[(category, answer)] += 1
    ms = (time.perf_counter() - start) * 1000 / len(items)
    return right / len(items), ms, wrong


def methods(tagger: Tagger) -> dict[str, Callable[[str], str]]:
    tier1 = _tier1_names()
    names_only = name_only_tier1()

    def hierarchical(text: str) -> str:
        return tier1[iab_categories(text, tagger).tags[0].tag.split(">")[0]]

    def flat(text: str) -> str:
        return tier1[iab_flat(text, tagger).tags[0].tag.split(">")[0]]

    def names(text: str) -> str:
        return tagger.tag(text, names_only).tags[0].tag

    assert len(tier1_tags().tags) == len(tier1) == 29
    return {"hierarchical": hierarchical, "flat (698)": flat, "tier-1 names only": names}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bbc-per-class", type=int, default=60)
    ap.add_argument("--huffpost-per-class", type=int, default=25)
    ap.add_argument("--errors", type=int, default=5, help="most common errors to print")
    args = ap.parse_args()
    tagger = get_tagger("embedding")
    sets = {
        "BBC News (full articles)": bbc(args.bbc_per_class),
        "HuffPost (headline + description)": huffpost(args.huffpost_per_class),
    }
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs")
    print("| dataset | items | method | tier-1 accuracy | ms/item |")
    print("|---|---:|---|---:|---:|")
    notes = []
    for name, items in sets.items():
        for label, method in methods(tagger).items():
            acc, ms, wrong = run(items, method)
            print(f"| {name} | {len(items)} | {label} | {acc:.3f} | {ms:.1f} |", flush=True)
            top = ", ".join(f"{c} -> {a} ({n})" for (c, a), n in wrong.most_common(args.errors))
            notes.append(f"{name}, {label}: {top}")
    print()
    for line in notes:
        print("- most common errors:", line)


if __name__ == "__main__":
    main()

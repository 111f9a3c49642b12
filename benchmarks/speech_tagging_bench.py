"""Tagging spoken transcripts: the speech development set beside the public text sets.

    python benchmarks/speech_tagging_bench.py --split tune            # iterate on this half
    python benchmarks/speech_tagging_bench.py --split both --before 50d8b3e

Speech sets (``benchmarks/speech_dev/*.jsonl``): ``media`` (+ ``offtopic`` when present)
with the media preset; ``support`` calls with the support preset; ``support none``: the
support list against every item that is not a support call about one of its tags (the
support calls with gold null, the media and off-topic items), where the right answer is
"none fits"; ``multilingual`` (es/de/fr, media preset). Public sets, ``--public-rows``
each, loaded with ``benchmarks/tagging_bench.py``'s helpers: AG News, BBC, HuffPost,
BANKING77, CLINC150 (media tags, ``none`` for out-of-scope talk) and MInDS-14 reference
transcripts (intents mapped to the support tags by the data folder's heuristic
``intent_to_coarse_category.csv``).

Methods: ``plain cosine`` embeds the text as the mean of its 150-word chunks (each well
under MiniLM's 256 word pieces; a short text is one chunk) and takes the closest
``"Topic: <name>. <description>"``; it never says "none". ``earmark`` is
``get_tagger("embedding")``; ``accurate`` is ``get_tagger("accurate")`` (the same tagger on
all-mpnet-base-v2, its own calibration) and ``accurate plain cosine`` the plain cosine
above on its encoder (``--no-accurate`` skips both). ``--before REV`` adds the embedding tagger of that commit
(its ``embedding.py`` loaded beside the current one), ``earmark + SPEECH_CONFIG`` is the
opt-in setting (long sentences cut into pieces, sentences weighted by topicality), and
``rank average`` averages each tag's rank under earmark and plain cosine ("none" from
earmark). Open-set rejection (:mod:`earmark.tagging.openset`: "none fits" when a broad
background topic the list does not hold clearly beats every tag) is on in the default for
domain lists only (the support preset); ``earmark, no open set`` turns it off and
``earmark + open set on every list`` applies it to every list, with its own reliability
table at the end. ``--long`` adds the Earnings-21 calls and QMSum meetings; with
``--split both`` the second author's files (written after the tuning) get rows of their own.

Columns: lenient accuracy (best tag in gold or ``also``; for gold null, right iff no tag
is selected), strict (gold only), macro-F1 (strict, "none" a label), top-1 lenient
(the top-ranked tag whatever its relevance, on-topic items only), the none-rate on items
where no tag fits, the keep-rate on items where one does, and ms per item.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import tagging_bench as tb  # noqa: E402

from earmark.errors import ModelError  # noqa: E402
from earmark.tagging import TagOptions, get_tagger, load_tags  # noqa: E402
from earmark.tagging.base import Tagger, TagInput  # noqa: E402
from earmark.tagging.embedding import SPEECH_CONFIG, EmbeddingConfig, EmbeddingTagger  # noqa: E402
from earmark.tagging.openset import OpenSetConfig  # noqa: E402
from earmark.types import TagList, TagResult, TagScore  # noqa: E402

SPEECH = ROOT / "benchmarks" / "speech_dev"
OPEN_SET = "earmark + open set on every list"
MINDS_MAP = {
    "account_access": "Account Issues",
    "technical_support": "Technical Support",
    "billing": "Billing and Payments",
    "product_inquiry": "Product Inquiry",
}


@dataclass(frozen=True)
class Item:
    """One evaluation item: text, gold tag (``None``: no tag fits), accepted alternatives."""

    text: str
    gold: str | None
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Score:
    n: int
    lenient: float
    strict: float
    macro_f1: float
    top1: float
    none_rate: float | None
    keep_rate: float | None
    ms: float
    relevances: tuple[tuple[float, bool], ...]  # (best tag's relevance, right) per on-topic


class ChunkCosine(Tagger):
    """Plain cosine: mean of 150-word chunk embeddings vs "Topic: <name>. <description>"."""

    name = "plain-cosine"

    def __init__(self, tagger: EmbeddingTagger, chunk_words: int = 150) -> None:
        self.enc = tagger.encoder
        self.chunk_words = chunk_words

    def tag(self, item: TagInput, tags: TagList, options: TagOptions | None = None) -> TagResult:
        return self.tag_many([item], tags, options)[0]

    def tag_many(
        self, items: list[TagInput], tags: TagList, options: TagOptions | None = None
    ) -> list[TagResult]:
        t = self.enc.encode([f"Topic: {x.name}. {x.description}" for x in tags.tags])
        chunks: list[str] = []
        owner: list[int] = []
        for i, it in enumerate(items):
            words = (it if isinstance(it, str) else it.text).split() or [""]
            for a in range(0, len(words), self.chunk_words):
                chunks.append(" ".join(words[a : a + self.chunk_words]))
                owner.append(i)
        emb = self.enc.encode(chunks)
        x = np.zeros((len(items), emb.shape[1]), np.float32)
        np.add.at(x, np.array(owner), emb)
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        out = []
        for row in x @ t.T:
            order = np.argsort(-row)
            ranked = tuple(TagScore(tags.names[j], float(row[j])) for j in order)
            out.append(TagResult(ranked[0].tag, ranked, (ranked[0].tag,), (), 0.0, self.name))
        return out


class RankAverage(Tagger):
    """Each tag's mean rank under two taggers; "none fits" from the first one."""

    name = "rank-average"

    def __init__(self, first: Tagger, second: Tagger) -> None:
        self.first, self.second = first, second

    def tag(self, item: TagInput, tags: TagList, options: TagOptions | None = None) -> TagResult:
        return self.tag_many([item], tags, options)[0]

    def tag_many(
        self, items: list[TagInput], tags: TagList, options: TagOptions | None = None
    ) -> list[TagResult]:
        a = self.first.tag_many(items, tags, options)
        b = self.second.tag_many(items, tags, options)
        out = []
        for ra, rb in zip(a, b, strict=True):
            rank = {s.tag: float(k) for k, s in enumerate(ra.tags)}
            first_rel = {s.tag: s.relevance for s in ra.tags}
            for k, s in enumerate(rb.tags):
                rank[s.tag] += k
            order = sorted(rank, key=lambda n: (rank[n], -first_rel[n]))
            ranked = tuple(TagScore(n, first_rel[n]) for n in order)
            best = order[0] if ra.best_tag is not None else None
            out.append(TagResult(best, ranked, ra.selected, (), ra.threshold, self.name))
        return out


def load_before(rev: str) -> type[EmbeddingTagger] | None:
    """The EmbeddingTagger class of ``embedding.py`` at commit ``rev`` (None if absent)."""
    try:
        src = subprocess.run(
            ["git", "show", f"{rev}:src/earmark/tagging/embedding.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "embedding_before.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("embedding_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["embedding_before"] = module
    spec.loader.exec_module(module)
    cls: type[EmbeddingTagger] = module.EmbeddingTagger
    return cls


def _jsonl(name: str) -> list[dict[str, object]]:
    path = SPEECH / name
    if not path.exists():
        return []
    return [json.loads(ln) for ln in path.read_text("utf-8").splitlines() if ln.strip()]


def _item(r: dict[str, object], gold_none: bool = False) -> Item:
    gold = None if gold_none else r["gold"]
    also = () if gold_none else tuple(r.get("also") or ())  # type: ignore[arg-type]
    return Item(str(r["text"]), gold if isinstance(gold, str) else None, also)


SECOND_AUTHOR = ("media_more.jsonl", "offtopic_more.jsonl", "support_na.jsonl")


def speech_sets(
    split: str, files: Sequence[str] | None = None
) -> list[tuple[str, str, list[Item]]]:
    """(name, preset, items) of the speech development set for one split (or ``both``).

    ``files`` limits the set to those files (e.g. :data:`SECOND_AUTHOR`); by default every
    author's media, off-topic, support and multilingual files are read.
    """

    def part(*names: str) -> list[dict[str, object]]:
        rows = [r for n in names if files is None or n in files for r in _jsonl(n)]
        return [r for r in rows if split == "both" or r["split"] == split]

    media = part("media.jsonl", "offtopic.jsonl", "media_more.jsonl", "offtopic_more.jsonl")
    media = [r for r in media if r.get("list", "media") == "media"]
    support = [r for r in part("support.jsonl", "support_na.jsonl") if r["list"] == "support"]
    multi = part("multilingual.jsonl")
    none_items = [_item(r, True) for r in media] + [_item(r) for r in support if r["gold"] is None]
    tail = split if files is None else f"{split}, 2nd author"
    sets = [
        (f"speech media ({tail})", "media", [_item(r) for r in media]),
        (f"speech support ({tail})", "support", [_item(r) for r in support]),
        (f"speech support none ({tail})", "support", none_items),
        (f"speech multilingual ({tail})", "media", [_item(r) for r in multi]),
    ]
    return [s for s in sets if s[2]]


def long_sets() -> list[tuple[str, TagList, list[Item]]]:
    """Earnings-21 calls and QMSum meetings: hour-long real transcripts, media tags.

    A call's acceptable tags are its sector's (``multilabel_bench.SECTORS``: Healthcare
    Health or Business, Technology Technology or Business, Financial Finance, the rest
    Business; Business and Finance accept each other); a meeting's are QMSum's suggested
    tags for its domain. ``gold`` is the first of them, ``also`` the rest (lenient: any).
    """
    import multilabel_bench as mb  # only needed here; it imports the tagger too

    out: list[tuple[str, TagList, list[Item]]] = []
    media = load_tags("media")
    for name, items in mb._long_sets(25).items():
        rows = []
        for text, gold in items:
            accept = list(dict.fromkeys([*gold, *(f for g in gold for f in mb.FAIR.get(g, ()))]))
            rows.append(Item(str(text), accept[0], tuple(accept[1:])))
        out.append((f"{name} (Earnings-21)" if "Earnings" in name else f"{name}", media, rows))
    return out


def public_sets(rows: int) -> list[tuple[str, TagList, list[Item]]]:
    """AG News, BBC, HuffPost, BANKING77, CLINC150 and MInDS-14, ``rows`` each at most."""
    d = tb.data_dir()
    media = load_tags("media")
    support = load_tags("support")
    out: list[tuple[str, TagList, list[Item]]] = []
    ag = [
        (f"{r['title']}. {r['description']}", tb.AG_MAP[r["label"]])
        for r in tb._csv(d / "ag_news/test.csv")
    ]
    out.append(
        ("AG News", load_tags(tb.AG_TAGS), [Item(t, g) for t, g in tb._balanced(ag, rows // 4)])
    )
    bbc_tags = load_tags({n: media.as_dict()[n] for n in tb.BBC_MAP.values()})
    bbc = [
        (f"{r['title']}. {r['text']}", tb.BBC_MAP[r["category"]])
        for r in tb._csv(d / "bbc_news/bbc_news.csv")
    ]
    out.append(
        ("BBC News", bbc_tags, [Item(t, g) for t, g in tb._balanced(bbc, max(rows // 10, 1))])
    )
    hp = tb._csv(d / "huffpost_news_category/huffpost_2018-2022_subset.csv")[:rows]
    out.append(
        (
            "HuffPost",
            media,
            [
                Item(f"{r['headline']}. {r['short_description']}".strip(), r["mapped_tag"])
                for r in hp
            ],
        )
    )
    coarse = {
        r["banking77_intent"]: r["coarse_callcentre_category"]
        for r in tb._csv(d / "banking77/intent_to_coarse_category.csv")
    }
    bank = [
        (r["text"], tb.BANK_MAP[coarse[r["category"]]]) for r in tb._csv(d / "banking77/test.csv")
    ]
    step = max(1, len(bank) // rows)
    out.append(("BANKING77", support, [Item(t, g) for t, g in bank[1::step][:rows]]))
    cl = [
        (r["text"], tb.CLINC_MAP[r["domain"]])
        for r in tb._csv(d / "clinc150/test.csv")
        if r["domain"] in tb.CLINC_MAP
    ]
    step = max(1, len(cl) // rows)
    out.append(
        (
            "CLINC150 (none = off-topic)",
            media,
            [Item(t, None if g == "none" else g) for t, g in cl[::step][:rows]],
        )
    )
    minds = d / "minds14_en" / "metadata_all_1809.csv"
    if minds.exists():
        mapping = {
            r["minds14_intent"]: MINDS_MAP[r["coarse_callcentre_category"]]
            for r in tb._csv(d / "minds14_en/intent_to_coarse_category.csv")
        }
        mr = [
            (r["transcript"], mapping[r["intent"]])
            for r in tb._csv(minds)
            if r["transcript"].strip()
        ]
        step = max(1, len(mr) // rows)
        out.append(
            (
                "MInDS-14 (reference transcripts)",
                support,
                [Item(t, g) for t, g in mr[::step][:rows]],
            )
        )
    return out


def score(tagger: Tagger, tags: TagList, items: Sequence[Item]) -> Score:
    """Tag ``items`` and measure (see the module docstring for the columns)."""
    t0 = time.perf_counter()
    results = tagger.tag_many([it.text for it in items], tags, TagOptions(per_window=False))
    ms = 1000 * (time.perf_counter() - t0) / max(len(items), 1)
    lenient = strict = 0
    top1: list[bool] = []
    none_ok: list[bool] = []
    kept: list[bool] = []
    pairs: list[tuple[str, str]] = []
    rel: list[tuple[float, bool]] = []
    for it, r in zip(items, results, strict=True):
        pred = r.best_tag
        if it.gold is None:
            right = pred is None
            lenient += right
            strict += right
            none_ok.append(right)
        else:
            lenient += pred == it.gold or pred in it.also
            strict += pred == it.gold
            kept.append(pred is not None)
            top = r.tags[0].tag
            ok = top == it.gold or top in it.also
            top1.append(ok)
            rel.append((r.tags[0].relevance, ok))
        pairs.append((it.gold or "none", pred or "none"))
    labels = sorted({g for g, _ in pairs})
    f1s = []
    for lab in labels:
        tp = sum(g == lab and p == lab for g, p in pairs)
        fp = sum(g != lab and p == lab for g, p in pairs)
        fn = sum(g == lab and p != lab for g, p in pairs)
        f1s.append(2 * tp / max(2 * tp + fp + fn, 1))
    n = len(items)
    return Score(
        n,
        lenient / n,
        strict / n,
        float(np.mean(f1s)),
        float(np.mean(top1)) if top1 else float("nan"),
        float(np.mean(none_ok)) if none_ok else None,
        float(np.mean(kept)) if kept else None,
        ms,
        tuple(rel),
    )


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def reliability(pairs: Sequence[tuple[float, bool]], edges: Sequence[float]) -> list[str]:
    """Markdown rows: relevance bin, items, share whose top tag is right (lenient)."""
    rows = []
    for lo, hi in itertools.pairwise(edges):
        inside = [ok for r, ok in pairs if lo <= r < hi or (hi == edges[-1] and r == hi)]
        share = f"{np.mean(inside):.3f}" if inside else "-"
        rows.append(f"| {lo:.2f}-{hi:.2f} | {len(inside)} | {share} |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--split", choices=("tune", "test", "both"), default="tune")
    ap.add_argument("--public-rows", type=int, default=400, help="rows per public set (0: none)")
    ap.add_argument(
        "--long", action="store_true", help="also the Earnings-21 calls and QMSum meetings"
    )
    ap.add_argument("--before", default="", help="also run the embedding tagger of this commit")
    ap.add_argument("--no-variants", action="store_true", help="only baseline, before, earmark")
    ap.add_argument(
        "--no-accurate",
        action="store_true",
        help="skip the accurate engine (all-mpnet-base-v2, ~8x slower) and its plain cosine",
    )
    args = ap.parse_args()

    earmark = get_tagger("embedding")
    assert isinstance(earmark, EmbeddingTagger)
    plain = ChunkCosine(earmark)
    methods: list[tuple[str, Tagger]] = [("plain cosine", plain)]
    if args.before:
        cls = load_before(args.before)
        if cls is not None:
            methods.append((f"earmark before ({args.before})", cls(earmark.encoder)))
    methods.append(("earmark", earmark))
    if not args.no_accurate:
        try:
            accurate = get_tagger("accurate")
        except ModelError as exc:
            print(f"accurate engine skipped: {exc}", file=sys.stderr)
        else:
            assert isinstance(accurate, EmbeddingTagger)
            methods.append(("accurate plain cosine (all-mpnet-base-v2)", ChunkCosine(accurate)))
            methods.append(("accurate", accurate))
    if not args.no_variants:
        speech = EmbeddingTagger(earmark.encoder, SPEECH_CONFIG)
        methods.append(("earmark + SPEECH_CONFIG (topical weights)", speech))
        methods.append(("rank average (earmark, plain)", RankAverage(earmark, plain)))
        closed = EmbeddingConfig(open_set=None)
        methods.append(("earmark, no open set", EmbeddingTagger(earmark.encoder, closed)))
        open_set = EmbeddingConfig(open_set=OpenSetConfig())
        methods.append((OPEN_SET, EmbeddingTagger(earmark.encoder, open_set)))

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"python {platform.python_version()}; encoder {earmark.encoder.name}"
    )
    sets: list[tuple[str, TagList, list[Item]]] = []
    splits = ("tune", "test") if args.split == "both" else (args.split,)
    for split in splits:
        sets.extend((n, load_tags(p), items) for n, p, items in speech_sets(split))
    if args.split == "both":  # the second author's files alone (written after the tuning)
        sets.extend((n, load_tags(p), items) for n, p, items in speech_sets("both", SECOND_AUTHOR))
    if args.public_rows > 0:
        sets.extend(public_sets(args.public_rows))
    if args.long:
        sets.extend(long_sets())
    print(
        "| set | items | method | lenient | strict | macro-F1 | top-1 | none-rate | keep-rate | ms/item |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    reliable: list[tuple[float, bool]] = []
    reliable_open: list[tuple[float, bool]] = []
    run: Callable[[Tagger, TagList, list[Item]], Score] = score
    for name, tags, items in sets:
        for label, tagger in methods:
            s = run(tagger, tags, items)
            if label == "earmark" and name.startswith("speech") and "multilingual" not in name:
                reliable.extend(s.relevances)
            if label == OPEN_SET and name.startswith("speech") and "multilingual" not in name:
                reliable_open.extend(s.relevances)
            print(
                f"| {name} | {s.n} | {label} | {s.lenient:.3f} | {s.strict:.3f} | "
                f"{s.macro_f1:.3f} | {s.top1:.3f} | {_pct(s.none_rate)} | "
                f"{_pct(s.keep_rate)} | {s.ms:.1f} |",
                flush=True,
            )
    if reliable:
        print("\nearmark, English speech items with a gold tag: best tag's relevance vs right")
        print("| relevance | items | top tag right |\n|---|---|---|")
        for line in reliability(reliable, (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)):
            print(line)
    if reliable_open:
        print(f"\n{OPEN_SET}, the same items")
        print("| relevance | items | top tag right |\n|---|---|---|")
        for line in reliability(reliable_open, (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)):
            print(line)


if __name__ == "__main__":
    main()

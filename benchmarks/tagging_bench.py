"""Tagging benchmark: earmark's embedding tagger beside the plain cosine baseline.

    python benchmarks/tagging_bench.py                 # all datasets, default sizes
    python benchmarks/tagging_bench.py --rows 500 --only ag_news,bbc
    python benchmarks/tagging_bench.py --precision float32   # the exact (non-int8) encoder
    python benchmarks/tagging_bench.py --engine static    # the static (model2vec-style) one

Datasets come from the shared data folder (``EARMARK_SHARED_DIR`` or ../shared):
AG News (4 tags written as a user would), BBC News (the 5 matching media-preset tags,
full articles), HuffPost (mapped to the 15 media tags), BANKING77 (coarse categories
mapped to the support preset; zero-shot and with 5 examples per tag), CLINC150 with the
media tags for "none fits" (out-of-scope and topic-free domains labelled ``none``), and
the time to tag a 5-minute (~750-word) transcript.

The baseline embeds the whole text (truncated at 256 word pieces) and picks the tag
whose ``"Topic: <name>. <description>"`` has the highest cosine; it never says "none".
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from earmark.tagging import TagOptions, get_tagger, load_tags  # noqa: E402
from earmark.tagging.base import Tagger, TagInput  # noqa: E402
from earmark.tagging.embedding import EmbeddingTagger  # noqa: E402
from earmark.tagging.encoder import EncoderOptions, get_encoder  # noqa: E402
from earmark.tagging.evaluate import EvalReport, evaluate  # noqa: E402
from earmark.types import Segment, TagList, TagResult, TagScore, Transcript  # noqa: E402

AG_TAGS = {
    "World": "News about international affairs, governments, conflicts and diplomacy around the world.",
    "Sports": "News about sports, athletes, teams, matches and competitions.",
    "Business": "News about companies, markets, the economy, trade and finance.",
    "Science and Technology": "News about science, technology, computers, the internet, software and space.",
}
AG_MAP = {
    "World": "World",
    "Sports": "Sports",
    "Business": "Business",
    "Sci/Tech": "Science and Technology",
}
BBC_MAP = {
    "business": "Business",
    "entertainment": "Entertainment",
    "politics": "Politics",
    "sport": "Sports",
    "tech": "Technology",
}
BANK_MAP = {
    "account_access": "Account Issues",
    "technical_support": "Technical Support",
    "billing": "Billing and Payments",
    "product_inquiry": "Product Inquiry",
}
CLINC_MAP = {
    "banking": "Finance",
    "credit_cards": "Finance",
    "travel": "Travel",
    "auto_and_commute": "Travel",
    "kitchen_and_dining": "Lifestyle",
    "work": "Business",
    "oos": "none",
    "small_talk": "none",
    "meta": "none",
    "home": "none",
    "utility": "none",
}


def data_dir() -> Path:
    env = os.environ.get("EARMARK_SHARED_DIR")
    return (Path(env) if env else ROOT.parent / "shared") / "data"


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _balanced(rows: list[tuple[str, str]], per_label: int) -> list[tuple[str, str]]:
    """The first ``per_label`` rows of each label, in file order."""
    seen: dict[str, int] = {}
    out = []
    for text, label in rows:
        if seen.get(label, 0) < per_label:
            out.append((text, label))
            seen[label] = seen.get(label, 0) + 1
    return out


class CosineBaseline(Tagger):
    """Plain cosine between the whole text and "Topic: <name>. <description>"."""

    name = "cosine-baseline"

    def __init__(self, tagger: EmbeddingTagger) -> None:
        self.enc = tagger.encoder

    def tag(self, item: TagInput, tags: TagList, options: TagOptions | None = None) -> TagResult:
        return self.tag_many([item], tags, options)[0]

    def tag_many(
        self, items: list[TagInput], tags: TagList, options: TagOptions | None = None
    ) -> list[TagResult]:
        t = self.enc.encode([f"Topic: {x.name}. {x.description}" for x in tags.tags])
        x = self.enc.encode([i if isinstance(i, str) else i.text for i in items])
        out = []
        for row in x @ t.T:
            order = np.argsort(-row)
            ranked = tuple(TagScore(tags.names[j], float(row[j])) for j in order)
            out.append(TagResult(ranked[0].tag, ranked, (ranked[0].tag,), (), 0.0, self.name))
        return out


def run_pair(
    name: str,
    tags: TagList,
    items: list[tuple[str, str]],
    tagger: EmbeddingTagger,
    baseline: Tagger,
    opts: TagOptions,
) -> list[str]:
    rows = []
    base = evaluate(baseline, tags, items, opts)
    ours = evaluate(tagger, tags, items, opts)
    ours0 = evaluate(tagger, tags, items, TagOptions(threshold=0.0, per_window=False))
    for label, r in (
        ("cosine baseline", base),
        ("earmark, threshold 0 (always a tag)", ours0),
        ("earmark, default threshold", ours),
    ):
        rows.append(_row(name, len(tags.tags), label, r))
    return rows


def _row(name: str, n_tags: int, label: str, r: EvalReport) -> str:
    none = (
        f"{r.none_predicted}"
        if r.none_expected == 0
        else (f"{r.none_correct}/{r.none_expected} right, {r.none_predicted} predicted")
    )
    return (
        f"| {name} | {r.n} | {n_tags} | {label} | {r.accuracy:.3f} | {r.macro_f1:.3f} | "
        f"{r.ms_per_item:.1f} | {none} |"
    )


def transcript_of(words: list[str], seconds: int = 300, per_segment: int = 15) -> Transcript:
    segs = []
    n = len(words)
    for i in range(0, n, per_segment):
        j = min(i + per_segment, n)
        segs.append(
            Segment(
                id=len(segs),
                start_ms=seconds * 1000 * i // n,
                end_ms=seconds * 1000 * j // n,
                text=" ".join(words[i:j]),
            )
        )
    return Transcript(
        text=" ".join(words),
        segments=tuple(segs),
        language="en",
        language_probability=1.0,
        duration_ms=seconds * 1000,
    )


def bench_transcript(tagger: EmbeddingTagger, media: TagList, bbc: list[dict[str, str]]) -> str:
    words: list[str] = []
    for r in bbc:
        words.extend(r["text"].split())
        if len(words) >= 750:
            break
    tr = transcript_of(words[:750])
    tagger.tag(tr, media)  # warm: tag vectors cached
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        res = tagger.tag(tr, media)
        times.append(time.perf_counter() - t0)
    texts = [w.text for w in res.segments]
    t0 = time.perf_counter()
    for _ in range(5):
        tagger.encoder.encode(texts)
    enc_ms = 1000 * (time.perf_counter() - t0) / 5
    tokens = sum(tagger.encoder.count_tokens(texts))
    return (
        f"5-minute transcript (750 words, {len(tr.segments)} segments -> {len(texts)} windows, "
        f"{tokens} word pieces): best {1000 * min(times):.0f} ms, median "
        f"{1000 * float(np.median(times)):.0f} ms per transcript (encoding alone {enc_ms:.0f} ms)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=2000, help="rows per dataset (AG News, HuffPost)")
    ap.add_argument("--bbc-rows", type=int, default=500, help="BBC articles (balanced)")
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated subset of: ag_news,bbc,huffpost,banking77,clinc,transcript",
    )
    ap.add_argument(
        "--precision",
        default=None,
        help="encoder precision (float32 or int8); default: the encoder's default",
    )
    ap.add_argument(
        "--engine",
        choices=("embedding", "static"),
        default="embedding",
        help="static: get_tagger('static') (the static MiniLM table, its own calibration)",
    )
    args = ap.parse_args()
    only = set(args.only.split(",")) - {""}

    def want(x: str) -> bool:
        return not only or x in only

    d = data_dir()
    tagger = (
        EmbeddingTagger(get_encoder(EncoderOptions(precision=args.precision)))
        if args.precision
        else EmbeddingTagger()
    )
    if args.engine == "static":
        static = get_tagger("static")
        assert isinstance(static, EmbeddingTagger)
        tagger = static
    baseline = CosineBaseline(tagger)
    media = load_tags("media")
    opts = TagOptions(per_window=False)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"python {platform.python_version()}; encoder {tagger.encoder.name}"
    )
    print("| dataset | rows | tags | method | accuracy | macro-F1 | ms/text | none |")
    print("|---|---|---|---|---|---|---|---|")
    jobs: list[tuple[str, Callable[[], list[str]]]] = []
    if want("ag_news"):
        rows = [
            (f"{r['title']}. {r['description']}", AG_MAP[r["label"]])
            for r in _csv(d / "ag_news/test.csv")
        ]
        items = _balanced(rows, args.rows // 4)
        jobs.append(
            (
                "ag_news",
                lambda: run_pair("AG News", load_tags(AG_TAGS), items, tagger, baseline, opts),
            )
        )
    bbc_rows = _csv(d / "bbc_news/bbc_news.csv")
    if want("bbc"):
        bbc_tags = load_tags({n: media.as_dict()[n] for n in BBC_MAP.values()})
        items_b = _balanced(
            [(f"{r['title']}. {r['text']}", BBC_MAP[r["category"]]) for r in bbc_rows],
            args.bbc_rows // 5,
        )
        jobs.append(
            (
                "bbc",
                lambda: run_pair(
                    "BBC News (full articles)", bbc_tags, items_b, tagger, baseline, opts
                ),
            )
        )
    if want("huffpost"):
        hp = _csv(d / "huffpost_news_category/huffpost_2018-2022_subset.csv")[: args.rows]
        items_h = [
            (f"{r['headline']}. {r['short_description']}".strip(), r["mapped_tag"]) for r in hp
        ]
        jobs.append(
            (
                "huffpost",
                lambda: run_pair("HuffPost (first rows)", media, items_h, tagger, baseline, opts),
            )
        )
    if want("banking77"):
        coarse = {
            r["banking77_intent"]: r["coarse_callcentre_category"]
            for r in _csv(d / "banking77/intent_to_coarse_category.csv")
        }
        bank = [
            (r["text"], BANK_MAP[coarse[r["category"]]]) for r in _csv(d / "banking77/test.csv")
        ]
        evaluation = bank[1::2]
        support = load_tags("support")
        examples: dict[str, list[str]] = {}
        for text, label in bank[0::2]:
            if len(examples.setdefault(label, [])) < 5:
                examples[label].append(text)
        fewshot = load_tags(
            {
                t.name: {"description": t.description, "examples": examples.get(t.name, [])}
                for t in support.tags
            }
        )

        def banking() -> list[str]:
            out = run_pair("BANKING77 (odd rows)", support, evaluation, tagger, baseline, opts)
            r = evaluate(tagger, fewshot, evaluation, TagOptions(threshold=0.0, per_window=False))
            out.append(
                _row(
                    "BANKING77 (odd rows)",
                    5,
                    "earmark + 5 examples/tag (from even rows), threshold 0",
                    r,
                )
            )
            return out

        jobs.append(("banking77", banking))
    if want("clinc"):
        cl = [
            (r["text"], CLINC_MAP[r["domain"]])
            for r in _csv(d / "clinc150/test.csv")
            if r["domain"] in CLINC_MAP
        ]
        items_c = cl[::5]

        def clinc() -> list[str]:
            out = []
            for thr in (0.5, 0.7):
                r = evaluate(tagger, media, items_c, TagOptions(threshold=thr, per_window=False))
                out.append(_row("CLINC150 (every 5th)", 15, f"earmark, threshold {thr}", r))
            return out

        jobs.append(("clinc", clinc))
    for _, job in jobs:
        for line in job():
            print(line, flush=True)
    if want("transcript"):
        print(bench_transcript(tagger, media, bbc_rows))


if __name__ == "__main__":
    main()

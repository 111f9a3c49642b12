#!/usr/bin/env python3
"""Validate every *.jsonl in benchmarks/speech_dev/ and print count tables.

    python benchmarks/speech_dev/check.py            # all files in this folder
    python benchmarks/speech_dev/check.py a.jsonl    # only these files

Schema (one JSON object per line):
  id     str, unique over all files in the folder
  list   "media" or "support" (tag lists of src/earmark/data/presets.json)
  style  non-empty str (media files: podcast, radio_news, interview, meeting,
         lecture, vlog, phone_in, panel)
  gold   a tag name of that list, or null ("none of the tags fits")
  also   list of other tags of that list that a careful listener would also accept
  split  "tune" or "test"
  text   the transcript
optional:
  hard     bool (about two topics; gold plus accepted alternatives in `also`)
  language ISO 639-1/-3 code, default "en"
  turns    list (per-turn segmentation, if a file provides it)

Errors (exit status 1): bad JSON, missing/unknown-typed fields, tag names not in
the list, duplicate ids, gold repeated in `also`, an easy item with more than one
alternative, a hard item with no alternative, unbalanced tune/test splits per gold
tag (|tune - test| > 1 + n // 10) or over hard items.
Stdlib only.
"""

from __future__ import annotations

import collections
import json
import re
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PRESETS = HERE.parent.parent / "src" / "earmark" / "data" / "presets.json"
FALLBACK = {
    "media": [
        "Sports",
        "Politics",
        "Entertainment",
        "Technology",
        "Health",
        "Business",
        "Science",
        "Education",
        "Travel",
        "Lifestyle",
        "Environment",
        "Finance",
        "World News",
        "Crime",
        "Culture",
    ],
    "support": [
        "Account Issues",
        "Technical Support",
        "Billing and Payments",
        "Product Inquiry",
        "Service Disruption",
    ],
}
MEDIA_STYLES = [
    "podcast",
    "radio_news",
    "interview",
    "meeting",
    "lecture",
    "vlog",
    "phone_in",
    "panel",
]
REQUIRED = {
    "id": str,
    "list": str,
    "style": str,
    "gold": (str, type(None)),
    "also": list,
    "split": str,
    "text": str,
}
OPTIONAL = {"hard": bool, "language": str, "turns": list}
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
BUCKETS = [
    (0, 39, "<40"),
    (40, 80, "40-80"),
    (81, 119, "81-119"),
    (120, 450, "120-450"),
    (451, 699, "451-699"),
    (700, 1000, "700-1000"),
    (1001, 10**9, ">1000"),
]
NONE = "(none fits)"
# words of the tag descriptions too generic to count as "the text names the topic"
GENERIC = set(
    [
        "news",
        "and",
        "updates",
        "on",
        "various",
        "information",
        "articles",
        "coverage",
        "discussion",
        "about",
        "of",
        "related",
        "to",
        "topics",
        "focusing",
        "insights",
        "into",
        "reports",
        "international",
        "covering",
        "the",
        "a",
        "an",
        "events",
        "issues",
    ]
)


def load_tags() -> dict[str, list[str]]:
    try:
        data = json.loads(PRESETS.read_text(encoding="utf-8"))
        return {k: list(v) for k, v in data.items() if k in FALLBACK}
    except (OSError, ValueError):
        return FALLBACK


def load_descriptions() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(PRESETS.read_text(encoding="utf-8"))
        # a tag is "name": "description" or "name": {"description": ..., "examples": [...]}
        return {
            k: {n: t["description"] if isinstance(t, dict) else t for n, t in v.items()}
            for k, v in data.items()
            if isinstance(v, dict)
        }
    except (OSError, ValueError):
        return {}


def topic_words(tag: str, description: str) -> list[str]:
    """Stems of the tag name and the distinctive words of its description."""
    ws = [tag.lower()] + [w for w in re.findall(r"[a-z]+", description.lower()) if w not in GENERIC]
    return [w if len(w) <= 5 or " " in w else w[: max(5, len(w) - 3)] for w in ws]


def says_topic(text: str, stems: list[str]) -> bool:
    t = text.lower()
    return any(re.search(r"\b" + re.escape(s), t) for s in stems)


def words(text: str) -> int:
    return len(text.split())


def bucket(n: int) -> str:
    for lo, hi, name in BUCKETS:
        if lo <= n <= hi:
            return name
    return "?"


def table(rows: list[list], header: list[str]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = [
        "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(cells[0])) + " |",
        "|" + "|".join("-" * (x + 2) for x in w) + "|",
    ]
    for r in cells[1:]:
        out.append("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")
    return "\n".join(out)


def check_file(path: Path, tags: dict, seen_ids: dict, errors: list, warnings: list) -> list[dict]:
    items = []
    for ln, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{ln}"
        if not line.strip():
            warnings.append(f"{where}: blank line")
            continue
        try:
            d = json.loads(line)
        except ValueError as e:
            errors.append(f"{where}: invalid JSON ({e})")
            continue
        if not isinstance(d, dict):
            errors.append(f"{where}: not an object")
            continue
        bad = False
        for k, typ in REQUIRED.items():
            if k not in d:
                errors.append(f"{where}: missing field {k!r}")
                bad = True
            elif not isinstance(d[k], typ):
                errors.append(f"{where}: field {k!r} has type {type(d[k]).__name__}")
                bad = True
        for k, typ in OPTIONAL.items():
            if k in d and not isinstance(d[k], typ):
                errors.append(f"{where}: optional field {k!r} has type {type(d[k]).__name__}")
                bad = True
        for k in d:
            if k not in REQUIRED and k not in OPTIONAL:
                warnings.append(f"{where}: unknown field {k!r}")
        if bad:
            continue
        iid = d["id"]
        if iid in seen_ids:
            errors.append(f"{where}: duplicate id {iid!r} (first in {seen_ids[iid]})")
        seen_ids[iid] = where
        lst = d["list"]
        if lst not in tags:
            errors.append(f"{where}: list {lst!r} not in {sorted(tags)}")
            continue
        names = tags[lst]
        if d["gold"] is not None and d["gold"] not in names:
            errors.append(f"{where}: gold {d['gold']!r} not a {lst} tag")
        for a in d["also"]:
            if a not in names:
                errors.append(f"{where}: also {a!r} not a {lst} tag")
        if d["gold"] is not None and d["gold"] in d["also"]:
            errors.append(f"{where}: gold repeated in also")
        if len(set(d["also"])) != len(d["also"]):
            errors.append(f"{where}: duplicate tag in also")
        if d["gold"] is None and d["also"]:
            errors.append(f"{where}: gold is null but also is not empty")
        if d["split"] not in ("tune", "test"):
            errors.append(f"{where}: split {d['split']!r} not tune/test")
        if not d["style"].strip():
            errors.append(f"{where}: empty style")
        if lst == "media" and d["style"] not in MEDIA_STYLES:
            warnings.append(f"{where}: style {d['style']!r} not one of {MEDIA_STYLES}")
        if "language" in d and not LANG_RE.match(d["language"]):
            errors.append(f"{where}: language {d['language']!r} is not an ISO code")
        hard = d.get("hard", False)
        if not hard and len(d["also"]) > 1:
            errors.append(f"{where}: easy item with {len(d['also'])} alternatives (mark it hard?)")
        if hard and not d["also"]:
            errors.append(f"{where}: hard item without alternatives in also")
        if not d["text"].strip():
            errors.append(f"{where}: empty text")
        d["_where"] = where
        items.append(d)
    return items


def balance(items: list[dict], label: str, errors: list) -> None:
    by = collections.defaultdict(collections.Counter)
    for d in items:
        by[d["gold"] if d["gold"] is not None else NONE][d["split"]] += 1
    for g, c in by.items():
        n = c["tune"] + c["test"]
        if abs(c["tune"] - c["test"]) > 1 + n // 10:
            errors.append(
                f"{label}: split unbalanced for {g!r}: tune {c['tune']} / test {c['test']}"
            )
    hard = collections.Counter(d["split"] for d in items if d.get("hard"))
    n = hard["tune"] + hard["test"]
    if n and abs(hard["tune"] - hard["test"]) > 1 + n // 10:
        errors.append(f"{label}: hard items unbalanced: tune {hard['tune']} / test {hard['test']}")


def report(path: Path, items: list[dict], tags: dict) -> str:
    descs = load_descriptions()
    out = [f"### {path.name}: {len(items)} items"]
    if not items:
        return out[0]
    lists = sorted({d["list"] for d in items})
    styles = sorted(
        {d["style"] for d in items},
        key=lambda s: (MEDIA_STYLES.index(s) if s in MEDIA_STYLES else 99, s),
    )
    langs = collections.Counter(d.get("language", "en") for d in items)
    for lst in lists:
        sub = [d for d in items if d["list"] == lst]
        golds = [g for g in tags[lst] if any(d["gold"] == g for d in sub)]
        if any(d["gold"] is None for d in sub):
            golds.append(None)
        rows = []
        for g in golds:
            gi = [d for d in sub if d["gold"] == g]
            sc = collections.Counter(d["style"] for d in gi)
            stems = [] if g is None else topic_words(g, descs.get(lst, {}).get(g, ""))
            name_hits = 0 if g is None else sum(1 for d in gi if says_topic(d["text"], stems))
            rows.append(
                [
                    g if g is not None else NONE,
                    len(gi),
                    sum(d["split"] == "tune" for d in gi),
                    sum(d["split"] == "test" for d in gi),
                    sum(bool(d.get("hard")) for d in gi),
                    len(sc),
                    "-" if g is None else name_hits,
                ]
                + [sc.get(s, 0) for s in styles]
            )
        tot = [sum(r[i] for r in rows if isinstance(r[i], int)) for i in range(1, len(rows[0]))]
        tot[4] = len(styles)
        rows.append(["**total**", *tot])
        out.append("")
        out.append(
            f"list `{lst}` (columns: items, tune, test, hard, distinct styles, "
            f"text uses the tag's name or a distinctive word of its description, then items per style)"
        )
        out.append("")
        out.append(
            table(rows, ["gold", "n", "tune", "test", "hard", "styles", "names it", *styles])
        )
    wc = [words(d["text"]) for d in items]
    bc = collections.Counter(bucket(w) for w in wc)
    out.append("")
    out.append(
        f"words per item: min {min(wc)}, median {int(statistics.median(wc))}, "
        f"max {max(wc)}, total {sum(wc)}; by length: "
        + ", ".join(f"{name}: {bc[name]}" for _, _, name in BUCKETS if bc[name])
    )
    hard = [d for d in items if d.get("hard")]
    out.append(
        f"hard items: {len(hard)} (tune {sum(d['split'] == 'tune' for d in hard)}, "
        f"test {sum(d['split'] == 'test' for d in hard)}); items with alternatives in also: "
        f"{sum(bool(d['also']) for d in items)}; languages: "
        + ", ".join(f"{k} {v}" for k, v in sorted(langs.items()))
    )
    return "\n".join(out)


def main(argv: list[str]) -> int:
    tags = load_tags()
    paths = (
        [Path(a) if Path(a).exists() else HERE / a for a in argv]
        if argv
        else sorted(HERE.glob("*.jsonl"))
    )
    if not paths:
        print("no *.jsonl files found", file=sys.stderr)
        return 1
    errors: list[str] = []
    warnings: list[str] = []
    seen: dict[str, str] = {}
    reports = []
    for p in paths:
        items = check_file(p, tags, seen, errors, warnings)
        balance(items, p.name, errors)
        reports.append(report(p, items, tags))
    print("\n\n".join(reports))
    for w in warnings:
        print("warning:", w, file=sys.stderr)
    for e in errors:
        print("ERROR:", e, file=sys.stderr)
    print(
        f"\n{len(paths)} file(s), {len(seen)} ids, {len(errors)} error(s), {len(warnings)} warning(s)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

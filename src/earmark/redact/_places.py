"""Locations: gazetteer places, street addresses, PO boxes and postal codes.

Places come from the gazetteer (cities, states, countries), longest match first; a place
that is also a common word ("mobile", "reading") or a first name needs a location word
before it ("in", "from", "live in") or capitals in a cased transcript. Street addresses
are anchored on a street suffix ("street", "ave") and reach back over up to three name words
to a house number, forward to a direction and a unit ("apartment 4b"); they are reported as
the ``ADDRESS`` marker so that they outrank a person name. Zip codes count here only right
after a place (``_numbers`` takes those after "zip"), and UK postcodes by their shape.
"""

from __future__ import annotations

import re

from earmark.redact._gazetteer import gazetteer
from earmark.redact._lexicon import COMMON_WORDS
from earmark.redact._spans import ADDRESS, Found
from earmark.redact._text import (
    FILLERS,
    ORDINALS,
    Tokens,
    is_numberish,
    phrase_at,
    read_number,
    skip_words,
    token_norms,
)

__all__ = ["STREET_SUFFIXES", "find_places", "is_cased"]


STREET_SUFFIXES = frozenset(
    [
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "rd",
        "boulevard",
        "blvd",
        "lane",
        "ln",
        "drive",
        "court",
        "ct",
        "way",
        "place",
        "pl",
        "circle",
        "cir",
        "terrace",
        "highway",
        "hwy",
        "parkway",
        "pkwy",
        "square",
        "sq",
        "trail",
        "crescent",
        "close",
        "alley",
        "plaza",
        "row",
        "pike",
        "freeway",
        "expressway",
    ]
)
_UNIT_WORDS = frozenset(
    ["apartment", "apt", "suite", "unit", "floor", "number", "#", "building", "bldg", "room"]
)
_DIRECTIONS = frozenset(
    [
        "north",
        "south",
        "east",
        "west",
        "n",
        "s",
        "e",
        "w",
        "ne",
        "nw",
        "se",
        "sw",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ]
)
_LOC_TRIGGERS = frozenset(
    [
        "in",
        "from",
        "to",
        "at",
        "near",
        "live",
        "living",
        "lives",
        "lived",
        "moved",
        "moving",
        "visiting",
        "visit",
        "based",
        "located",
        "outside",
        "downtown",
        "around",
        "address",
        "ship",
        "shipping",
        "shipped",
        "headed",
        "flying",
        "flew",
        "drive",
        "drove",
        "city",
        "town",
        "state",
        "country",
        "county",
        "province",
        "village",
        "reside",
        "relocating",
        "relocated",
    ]
)
_LOC_STRONG: tuple[tuple[str, ...], ...] = (
    ("live", "in"),
    ("living", "in"),
    ("lives", "in"),
    ("lived", "in"),
    ("moved", "to"),
    ("moving", "to"),
    ("based", "in"),
    ("located", "in"),
    ("reside", "in"),
    ("town", "of"),
    ("city", "of"),
    ("town", "called"),
    ("city", "called"),
    ("village", "of"),
    ("village", "called"),
    ("county",),
    ("relocating", "to"),
    ("relocated", "to"),
)
_FUNCTION = frozenset(
    [
        "the",
        "a",
        "an",
        "my",
        "our",
        "your",
        "his",
        "her",
        "their",
        "this",
        "that",
        "on",
        "at",
        "in",
        "of",
        "to",
        "and",
        "or",
        "is",
        "was",
        "for",
        "from",
        "with",
        "by",
        "it",
        "i",
        "we",
        "you",
        "he",
        "she",
        "they",
        "be",
    ]
)


def is_cased(tokens: Tokens) -> bool:
    """Does the transcript use capitals (Whisper's usual output) rather than all lower?"""
    inner = [t for t in tokens if not t.sent_start and t.norm not in ("i", "i'm", "i'll")]
    return bool(inner) and sum(t.cased for t in inner) >= max(1, len(inner) // 50)


def _read_unit(tokens: Tokens, i: int) -> int | None:
    """End of a flat or suite number after "apartment": "4b", "twelve", "three c"."""
    norms = token_norms(tokens)
    n = len(norms)
    if i < n and norms[i] in ("number", "#"):
        i += 1
    if i >= n:
        return None
    w = norms[i]
    if re.fullmatch(r"#?\d{1,5}[a-z]?|[a-z]\d{1,4}", w):
        return i + 1
    run = read_number(tokens, i, allow_o=True)
    if run is not None and not run.amount:
        end = run.end
        if end < n and len(norms[end]) == 1 and norms[end].isalpha():
            end += 1
        return end
    if len(w) == 1 and w.isalpha():
        return i + 1
    return None


def find_places(tokens: Tokens) -> list[Found]:
    g = gazetteer()
    norms = token_norms(tokens)
    n = len(norms)
    out: list[Found] = []

    text_cased = is_cased(tokens)

    def context_before(k: int) -> bool:
        j = k - 1
        while j >= 0 and (norms[j] in FILLERS or norms[j] == "the"):
            j -= 1
        return j >= 0 and norms[j] in _LOC_TRIGGERS

    # gazetteer, longest match first
    k = 0
    while k < n:
        hit = 0
        for length in range(min(g.place_max_len, n - k), 0, -1):
            if tuple(norms[k : k + length]) in g.places:
                hit = length
                break
        if not hit:
            k += 1
            continue
        words = norms[k : k + hit]
        t = tokens[k]
        ambiguous = all(g.ambiguous(w) for w in words)
        name_like = hit == 1 and g.is_first(words[0])
        cased = all(x.cased for x in tokens[k : k + hit]) and not t.sent_start
        followed_by_place = k + hit < n and (norms[k + hit],) in g.states
        if ambiguous:
            # "mobile", "reading", "spring", "most": a place only right after "in",
            # "from", "live in"..., and capitalised when the transcript is cased
            prev = norms[k - 1] if k > 0 else ""
            ok = prev in _LOC_TRIGGERS and prev not in ("at", "around", "to")
            ok = ok and (cased or not text_cased) and not (cased and t.raw.isupper())
            ok = ok or (cased and followed_by_place)
        else:
            ok = (
                not name_like
                or context_before(k)
                or cased
                or followed_by_place
                or (k > 0 and (norms[k - 1],) in g.places)
            )
        if ok:
            out.append(Found(ADDRESS if hit > 1 else "location", k, k + hit))
        k += hit
    # street addresses
    for k in range(n):
        if norms[k] not in STREET_SUFFIXES or k == 0:
            continue
        j = k - 1
        name_tokens = 0
        while j >= 0 and name_tokens < 3:
            w = norms[j]
            ordinal = w in ORDINALS or re.fullmatch(r"\d+(st|nd|rd|th)", w)
            if not ordinal and (w in _FUNCTION or not w or is_numberish(w)):
                break
            j -= 1
            name_tokens += 1
        start = j + 1
        if name_tokens == 0:
            continue
        # the house number: the end of a number run that ends at ``start``
        has_number = False
        for s in range(max(0, start - 8), start):
            run = read_number(tokens, s)
            if run is not None and run.end == start and not run.amount:
                start = s
                has_number = True
                break
        names = norms[k - name_tokens : k]
        strong_name = any(x not in COMMON_WORDS for x in names) or any(
            tokens[x].cased for x in range(k - name_tokens, k)
        )
        if not (has_number or context_before(start) or strong_name):
            continue
        if norms[k] == "st" and not has_number and not strong_name:
            continue
        end = k + 1
        if end < n and norms[end] in _DIRECTIONS:
            end += 1
        if end < n and norms[end] in _UNIT_WORDS:
            end = _read_unit(tokens, end + 1) or end
        out.append(Found(ADDRESS, start, end))
    # "p o box 123"
    for k in range(n):
        if norms[k] == "box" and k > 0 and norms[k - 1] in ("po", "o", "p.o"):
            start = k - 2 if k > 1 and norms[k - 2] == "p" else k - 1
            run = read_number(tokens, k + 1)
            if run is not None:
                out.append(Found(ADDRESS, start, run.end))
    # "i live in <word>", "a town called <word>"
    for k in range(n):
        for phrase in _LOC_STRONG:
            if not phrase_at(norms, k, phrase):
                continue
            j = skip_words(norms, k + len(phrase), limit=2)
            e = j
            while e < n and e - j < 3:
                w = norms[e]
                if (
                    re.fullmatch(r"[a-z][a-z'\-.]*", w)
                    and w not in _FUNCTION
                    and (w not in COMMON_WORDS or (w,) in g.places or tokens[e].cased)
                ):
                    e += 1
                    continue
                break
            if e > j:
                out.append(Found("location", j, e))
            break
    # zip codes right after a place, and UK postcodes
    spans = sorted(out, key=lambda f: f.start)
    for f in spans:
        j = f.end
        run = read_number(tokens, j)
        if run is not None and len(run.digits) in (5, 9) and not run.amount:
            out.append(Found("location", j, run.end))
    for k, t in enumerate(tokens):
        raw = t.raw.strip(" ,.")
        if (
            re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?", raw)
            and k + 1 < n
            and re.fullmatch(r"\d[A-Z]{2}", tokens[k + 1].raw.strip(" ,."))
        ):
            out.append(Found("location", k, k + 2))
    return out

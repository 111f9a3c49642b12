"""Person names.

Names are found from trigger phrases in three tiers ("my name is" takes nearly any word;
"this is", "hi" take a listed name or an unknown word; "my wife" takes a listed first name),
after titles ("mr", "doctor"), from the census gazetteer without context when a word is an
unambiguous first name or a first-plus-last pair, and as letter spellings next to a name
("smith, s m i t h"). Transcripts are often lower-case and many names are also words
("will", "mark", "rose"), so the common-word lexicon and the gazetteer's ambiguity flag
decide how much context a word needs, and capitals are used only as extra evidence.
"""

from __future__ import annotations

import re

from earmark.redact._gazetteer import NOT_NAMES, Gazetteer, gazetteer
from earmark.redact._lexicon import COMMON_WORDS
from earmark.redact._spans import Found
from earmark.redact._text import FILLERS, Tokens, phrase_at, skip_words, token_norms

__all__ = ["TITLES", "find_persons"]


# Trigger tiers. STRONG: the next word is a name unless it is a common word (a listed name
# that is also a word, "will", is still taken). MEDIUM: a listed name that is no common
# word, or any word that is in no list and no common word ("i'm priya"); an ambiguous
# listed name only when a caller word or a clause end follows ("this is mark from ...").
_NAME_STRONG: tuple[tuple[str, ...], ...] = (
    ("my", "name", "is"),
    ("name", "is"),
    ("name",),
    ("names",),
    ("first", "name"),
    ("last", "name"),
    ("surname",),
    ("full", "name"),
    ("named",),
    ("called",),
    ("call", "me"),
    ("goes", "by"),
    ("under", "the", "name"),
    ("put", "it", "under"),
)
_NAME_MEDIUM: tuple[tuple[str, ...], ...] = (
    ("this", "is"),
    ("i'm",),
    ("i", "am"),
    ("it's",),
    ("speaking", "with"),
    ("speak", "to"),
    ("speak", "with"),
    ("talk", "to"),
    ("talking", "to"),
    ("talking", "with"),
    ("talked", "to"),
    ("talked", "with"),
    ("spoke", "to"),
    ("spoke", "with"),
    ("ask", "for"),
    ("asking", "for"),
    ("thanks",),
    ("thank", "you"),
    ("hi",),
    ("hello",),
    ("hey",),
    ("dear",),
    ("bye",),
    ("reached",),
    ("transfer", "you", "to"),
)
_NAME_ROLE: tuple[tuple[str, ...], ...] = (
    ("wife",),
    ("husband",),
    ("son",),
    ("daughter",),
    ("mother",),
    ("father",),
    ("brother",),
    ("sister",),
    ("manager",),
    ("agent",),
    ("colleague",),
    ("friend",),
    ("boss",),
    ("partner",),
    ("assistant",),
    ("technician",),
    ("spouse",),
    ("holder",),
)
_CALLER_WORDS = frozenset(
    ["from", "calling", "speaking", "here", "with", "at", "and", "i", "by", "over", "on"]
)
_NAME_SKIP = frozenset([*FILLERS, "is", "was", "uh", "um", ","])
TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mister",
        "missus",
        "dr",
        "doctor",
        "professor",
        "prof",
        "officer",
        "sergeant",
        "captain",
        "judge",
        "aunt",
        "uncle",
    ]
)
_NOT_AFTER_CALLED = frozenset(
    ["town", "city", "village", "place", "street", "company", "store", "app", "shop"]
)
_NAME_BLOCK = frozenset(
    [
        "not",
        "just",
        "calling",
        "trying",
        "here",
        "going",
        "looking",
        "wondering",
        "still",
        "also",
        "really",
        "actually",
        "so",
        "very",
        "sorry",
        "good",
        "fine",
        "okay",
        "great",
        "back",
        "ready",
        "done",
        "sure",
        "happy",
        "glad",
        "new",
    ]
)


def _spelled_run(norms: list[str], i: int) -> int:
    """End of a run of single letters ("s m i t h") starting at ``i`` (``i`` if none)."""
    j = i
    while j < len(norms) and len(norms[j]) == 1 and norms[j].isalpha():
        j += 1
    return j if j - i >= 2 else i


def _clause_end(tokens: Tokens, j: int) -> bool:
    """Word ``j`` ends a clause: trailing punctuation, the end, or a caller word next."""
    if j + 1 >= len(tokens) or tokens[j].raw.rstrip().endswith((",", ".", "?", "!")):
        return True
    return tokens[j + 1].norm in _CALLER_WORDS


def _name_word(w: str) -> bool:
    """Letters, a hyphen, or an O'/D' prefix; no contraction ("i'm", "that's")."""
    ok = re.fullmatch(r"[a-z][a-z\-]*|[od]'[a-z]{2,}", w)
    return bool(ok) and w not in NOT_NAMES


def _name_ok(g: Gazetteer, tokens: Tokens, j: int, tier: str) -> bool:
    """Is word ``j`` a name after a trigger of ``tier`` ("strong", "medium", "role")?"""
    tok = tokens[j]
    w = tok.norm
    if not _name_word(w) or w in _NAME_BLOCK or w in TITLES:
        return False
    if j + 1 < len(tokens) and tokens[j + 1].norm == "name":
        return False  # "maiden name", "middle name"
    listed = g.is_name(w)
    common = w in COMMON_WORDS
    if tier == "strong" and (listed or not common):
        return True
    if tier in ("medium", "role"):
        unlisted_ok = tier == "medium" and not listed and not common and "-" not in w
        if (listed and not g.ambiguous(w)) or unlisted_ok:
            return (w,) not in g.places or g.is_first(w)
        if g.is_first(w) and _clause_end(tokens, j):
            return True
    return tok.cased and not tok.sent_start and g.is_first(w)


def _extend_name(g: Gazetteer, tokens: Tokens, j: int, strong: bool) -> int:
    """Take up to two surname words after a first name that ends at ``j``."""
    n = len(tokens)
    taken = 0
    while j < n and taken < 2:
        t = tokens[j]
        w = t.norm
        if not _name_word(w) or w in TITLES or w in _NAME_BLOCK:
            break
        if j > 0 and tokens[j - 1].raw.rstrip().endswith((",", ".", "?", "!", ";", ":")):
            break
        if (
            (g.is_last(w) and not g.ambiguous(w))
            or (t.cased and g.is_name(w))
            or (t.cased and not t.sent_start and w not in COMMON_WORDS)
            or (strong and w not in COMMON_WORDS and len(w) > 1)
            or (strong and taken == 0 and g.is_last(w) and _clause_end(tokens, j))
        ):
            j += 1
            taken += 1
            continue
        break
    return j


def find_persons(tokens: Tokens) -> list[Found]:
    g = gazetteer()
    norms = token_norms(tokens)
    n = len(norms)
    out: list[Found] = []
    used = [False] * n

    def add(s: int, e: int) -> None:
        if e > s:
            out.append(Found("person_name", s, e))
            for x in range(s, e):
                used[x] = True

    # trigger phrases and titles
    for k in range(n):
        if norms[k] in TITLES and k + 1 < n:
            j = k + 1
            if _name_ok(g, tokens, j, "strong") or tokens[j].cased:
                add(j, _extend_name(g, tokens, j + 1, strong=True))
            continue
        for tier, phrases in (
            ("strong", _NAME_STRONG),
            ("medium", _NAME_MEDIUM),
            ("role", _NAME_ROLE),
        ):
            phrase = next((p for p in phrases if phrase_at(norms, k, p)), None)
            if phrase is None:
                continue
            if phrase == ("called",) and k > 0 and norms[k - 1] in _NOT_AFTER_CALLED:
                break
            j = skip_words(norms, k + len(phrase), limit=2, extra=_NAME_SKIP, base=False)
            if j >= n:
                break
            spelled = _spelled_run(norms, j)
            if tier == "strong" and spelled > j:
                add(j, spelled)
                break
            if _name_ok(g, tokens, j, tier):
                add(j, _extend_name(g, tokens, j + 1, tier == "strong"))
            break
    # gazetteer names without context
    places = g.places
    for k in range(n):
        if used[k]:
            continue
        t = tokens[k]
        w = t.norm
        if not _name_word(w) or w in _NAME_BLOCK:
            continue
        if w in NOT_NAMES:
            continue
        is_place = (w,) in places
        nxt = tokens[k + 1] if k + 1 < n else None
        pair = (
            nxt is not None
            and g.is_first(w)
            and g.is_last(nxt.norm)
            and (not g.ambiguous(nxt.norm) or (nxt.cased and t.cased))
            and (not g.ambiguous(w) or t.cased)
        )
        if pair:
            add(k, _extend_name(g, tokens, k + 2, strong=False))
            continue
        if is_place:
            continue
        if g.is_first(w) and not g.ambiguous(w):
            add(k, _extend_name(g, tokens, k + 1, strong=False))
        elif (w in g.last_top and not g.ambiguous(w)) or (
            t.cased and not t.sent_start and g.is_name(w) and not g.ambiguous(w)
        ):
            add(k, k + 1)
        elif t.cased and not t.sent_start and g.is_first(w) and not t.raw.isupper():
            add(k, _extend_name(g, tokens, k + 1, strong=False))  # "I think Will said"
    # spellings next to a name: "smith, s m i t h", "Kim, K-I-M"
    for k in range(n):
        if used[k]:
            continue
        if re.fullmatch(r"[a-z](-[a-z]){1,}", norms[k]):
            if any(used[x] for x in range(max(0, k - 4), k)) or "spelled" in norms[k - 3 : k]:
                add(k, k + 1)
            continue
        e = _spelled_run(norms, k)
        if e - k >= 3:
            before = norms[max(0, k - 4) : k]
            near_name = any(used[x] for x in range(max(0, k - 6), k))
            if near_name or "spelled" in before or "spell" in before or "spelling" in before:
                add(k, e)
    return out

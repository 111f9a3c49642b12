"""Dates of birth, card expiry dates and ages.

A bare date is not PII (meetings, deliveries), so a date is taken only after a trigger:
"born", "date of birth", "dob" for ``date_of_birth``; "expires", "expiry", "valid thru" for
``credit_card_expiration``. After the trigger one reader takes the spoken or written date
("march seventh nineteen sixty one", "03/07/1961", "the seventh of march", "oh three twenty
six"), so both policies share it. An age is a small number followed by "years old" (or
written "42-year-old"), or preceded by "age"/"aged": the phrase, not the number, marks it.
"""

from __future__ import annotations

import re

from earmark.redact._gazetteer import MONTH_ABBR, MONTHS
from earmark.redact._spans import Found
from earmark.redact._text import (
    FILLERS,
    ORDINALS,
    TENS,
    Tokens,
    number_runs,
    phrase_at,
    read_number,
    skip_words,
    token_norms,
)

__all__ = ["DOB_TRIGGERS", "EXP_TRIGGERS", "find_ages", "find_dates"]


_ORDINAL_DIGITS = re.compile(r"^\d{1,2}(st|nd|rd|th)$")
_DATE_DIGITS = re.compile(r"^\d{1,4}([/\-.]\d{1,4}){1,2}$")


def _read_date(tokens: Tokens, i: int) -> int | None:
    """End of a date said at ``i``: "march seventh nineteen sixty one", "03/07/1961",
    "the seventh of march", "oh three twenty six"."""
    norms = token_norms(tokens)
    n = len(norms)
    j = i
    end = None
    substance = 0
    while j < n:
        w = norms[j]
        if w in MONTHS or w in MONTH_ABBR or _ORDINAL_DIGITS.match(w) or _DATE_DIGITS.match(w):
            j += 1
            end = j
            substance += 1
            continue
        if w in ORDINALS:
            j += 1
            end = j
            substance += 1
            continue
        if w in TENS and j + 1 < n and norms[j + 1] in ORDINALS:  # "twenty first"
            j += 2
            end = j
            substance += 1
            continue
        if w.endswith(("th", "st", "nd", "rd")) and "-" in w:  # "twenty-first"
            head, _, tail = w.partition("-")
            if head in TENS and tail in ORDINALS:
                j += 1
                end = j
                substance += 1
                continue
        run = read_number(tokens, j, allow_o=substance > 0)
        if run is not None and not run.amount and len(run.digits) <= 8:
            j = run.end
            end = j
            substance += 1
            continue
        if w in ("of", "the", "slash", "/", "-", "dash", "and", "") or w in FILLERS:
            if substance:
                j += 1
                continue
            if w in ("the",):
                j += 1
                continue
        break
    return end


DOB_TRIGGERS = (
    ("born",),
    ("birth",),
    ("birthday",),
    ("dob",),
    ("d", "o", "b"),
    ("birthdate",),
    ("d.o.b",),
)
EXP_TRIGGERS = (
    ("expiration",),
    ("expiry",),
    ("expires",),
    ("expire",),
    ("expiring",),
    ("exp",),
    ("valid", "thru"),
    ("valid", "through"),
    ("valid", "until"),
)
_DATE_SKIP = frozenset(
    [
        "on",
        "in",
        "is",
        "was",
        "the",
        "it's",
        "its",
        "that",
        "my",
        "of",
        "date",
        "it",
        "at",
        "be",
        "that's",
        "thats",
        "around",
        "like",
        "is",
        "uh",
        "um",
        "year",
        "in",
        "and",
        "dated",
        "back",
    ]
)


def find_dates(tokens: Tokens, policy: str, triggers: tuple[tuple[str, ...], ...]) -> list[Found]:
    norms = token_norms(tokens)
    out: list[Found] = []
    for k in range(len(norms)):
        for phrase in triggers:
            if phrase_at(norms, k, phrase):
                j = skip_words(norms, k + len(phrase), limit=5, extra=_DATE_SKIP)
                end = _read_date(tokens, j)
                if end is not None:
                    # strip trailing connectors
                    while end > j and norms[end - 1] in ("of", "the", "and", "slash", "dash"):
                        end -= 1
                    out.append(Found(policy, j, end))
                break
    return out


def find_ages(tokens: Tokens) -> list[Found]:
    norms = token_norms(tokens)
    out: list[Found] = []
    for run in number_runs(tokens):
        d = run.digits
        ok = len(d) <= 3 and d != "0"
        after = norms[run.end : run.end + 2]
        before = norms[max(0, run.start - 3) : run.start]
        if ok and (
            after[:2] in (["years", "old"], ["year", "old"], ["yrs", "old"])
            or (after and re.fullmatch(r"(years?|yr)-old", after[0]))
            or "age" in before
            or "aged" in before
        ):
            out.append(Found("person_age", run.start, run.end))
    for k, w in enumerate(norms):
        m = re.fullmatch(r"(\d{1,3})-years?-old", w)
        if m:
            out.append(Found("person_age", k, k + 1))
    return out

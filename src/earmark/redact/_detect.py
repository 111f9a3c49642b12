"""Rule-based PII detection over transcript words: the entry point.

Each detector returns :class:`Found` spans of whole tokens (one token per transcript word):
``_contact`` (email, URL, IP, username, password), ``_dates`` (date of birth, card expiry,
age), ``_numbers`` (phone, card, CVV, SSN, bank, account, ID numbers and triggered codes),
``_places`` (locations, addresses) and ``_names`` (person names). :func:`detect` runs them
all, keeps the higher-priority span where two overlap, and merges touching spans of one
policy. No model, no network: patterns, spoken-number parsing (``_text``), trigger phrases
and gazetteers (``_gazetteer``).
"""

from __future__ import annotations

from collections.abc import Callable

from earmark.redact._contact import find_emails, find_ips, find_secrets, find_urls
from earmark.redact._dates import DOB_TRIGGERS, EXP_TRIGGERS, find_ages, find_dates
from earmark.redact._names import find_persons
from earmark.redact._numbers import find_codes, find_numbers
from earmark.redact._places import find_places
from earmark.redact._spans import ADDRESS, ID_CODE, Found
from earmark.redact._text import Tokens

__all__ = ["PRIORITY", "Found", "detect"]

# Where two spans overlap, the policy earlier here keeps its span.
PRIORITY: tuple[str, ...] = (
    "email_address",
    "url",
    "ip_address",
    "credit_card_number",
    "credit_card_cvv",
    "credit_card_expiration",
    "us_social_security_number",
    "banking_information",
    "account_number",
    "healthcare_number",
    "drivers_license",
    "passport_number",
    "password",
    "username",
    "date_of_birth",
    "phone_number",
    "person_age",
    "person_name",
    "location",
    "number_sequence",
)
_RANK = {p: i for i, p in enumerate(PRIORITY)}
_RANK[ADDRESS] = _RANK["person_age"]
_RANK[ID_CODE] = _RANK["account_number"]
_ALIASES = {ADDRESS: "location", ID_CODE: "number_sequence"}


# ---------------------------------------------------------------- resolution

_DETECTORS: tuple[Callable[[Tokens], list[Found]], ...] = (
    find_emails,
    find_urls,
    find_ips,
    lambda t: find_dates(t, "date_of_birth", DOB_TRIGGERS),
    lambda t: find_dates(t, "credit_card_expiration", EXP_TRIGGERS),
    find_codes,
    find_secrets,
    find_numbers,
    find_ages,
    find_places,
    find_persons,
)


def _all_detectors(tokens: Tokens) -> list[Found]:
    found: list[Found] = []
    for run in _DETECTORS:
        found += run(tokens)
    return found


def detect(tokens: Tokens, enabled: frozenset[str]) -> list[Found]:
    """Spans of the enabled policies, non-overlapping, sorted, touching ones merged.

    Every detector runs on the whole text whatever is enabled; spans of policies that are
    not enabled still take part in overlap resolution (the "john" of an email address is
    not redacted as a name when only ``person_name`` is asked for), then are dropped.
    """
    if not tokens or not enabled:
        return []
    found = [f for f in _all_detectors(tokens) if f.end > f.start]
    found.sort(key=lambda f: (_RANK.get(f.policy, 99), -(f.end - f.start), f.start))
    owner: list[str | None] = [None] * len(tokens)
    kept: list[Found] = []
    for f in found:
        free = [x for x in range(f.start, f.end) if owner[x] is None]
        if not free:
            continue
        # keep the longest free stretch of a partly taken span
        best: tuple[int, int] = (free[0], free[0])
        s = free[0]
        prev = free[0]
        for x in [*free[1:], -2]:
            if x != prev + 1:
                if prev + 1 - s > best[1] - best[0]:
                    best = (s, prev + 1)
                s = x
            prev = x
        if best[1] - best[0] < (f.end - f.start) and f.policy not in (
            "location",
            ADDRESS,
            "person_name",
            ID_CODE,
        ):
            continue  # a number cut in half is no longer what was detected
        for x in range(best[0], best[1]):
            owner[x] = f.policy
        kept.append(Found(f.policy, best[0], best[1]))
    kept = [Found(_ALIASES.get(f.policy, f.policy), f.start, f.end) for f in kept]
    kept = [f for f in kept if f.policy in enabled]
    kept.sort(key=lambda f: f.start)
    merged: list[Found] = []
    for f in kept:
        if merged and merged[-1].policy == f.policy and merged[-1].end == f.start:
            merged[-1] = Found(f.policy, merged[-1].start, f.end)
        else:
            merged.append(f)
    return merged

"""Contact and login details: email addresses, URLs, IP addresses, usernames and passwords.

Speech spells these out ("john dot smith at gmail dot com", "one nine two dot one six
eight..."), so each is found two ways: a regex on a token that was written whole
("john.smith@gmail.com", "192.168.0.1") and a walk over spoken connectors ("dot", "at",
"slash") anchored on a known top-level domain or on four dotted number groups, which keeps
"at" and "dot" in ordinary speech from matching. Usernames and passwords have no shape of
their own, so they are taken only after a trigger phrase ("my password is", "username"),
and read as codes, spelled letters and symbol words.
"""

from __future__ import annotations

import re

from earmark.redact._gazetteer import gazetteer
from earmark.redact._lexicon import COMMON_WORDS
from earmark.redact._numbers import read_code
from earmark.redact._spans import Found
from earmark.redact._text import (
    ALNUM,
    CONNECTORS,
    SKIP,
    Tokens,
    phrase_at,
    read_number,
    token_norms,
    token_value,
)

__all__ = ["TLDS", "find_emails", "find_ips", "find_secrets", "find_urls"]


TLDS = frozenset(
    [
        "com",
        "org",
        "net",
        "edu",
        "gov",
        "io",
        "co",
        "uk",
        "us",
        "ca",
        "de",
        "fr",
        "info",
        "biz",
        "me",
        "ai",
        "app",
        "dev",
        "mil",
        "au",
        "in",
        "nz",
        "ie",
        "es",
        "it",
        "nl",
        "eu",
        "tv",
        "ly",
        "ru",
        "ch",
        "se",
        "jp",
        "cn",
        "br",
        "mx",
        "za",
    ]
)

_WRITTEN_EMAIL = re.compile(r"^[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$")
_WRITTEN_URL = re.compile(
    r"^(https?://)?(www\.)?[a-z0-9\-]+(\.[a-z0-9\-]+)*\.(" + "|".join(sorted(TLDS)) + r")(/\S*)?$"
)
_WRITTEN_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def _domain(norms: list[str], i: int, first: str | None = None) -> int | None:
    """End of "gmail dot com" / "gmail.com" / "example dot co dot uk" starting at ``i``."""
    labels: list[str] = []
    j = i
    if first is not None:
        labels.extend(x for x in first.split(".") if x)
        dotted = "." in first
    else:
        dotted = False
    if first is None:
        if j >= len(norms) or not ALNUM.match(norms[j]) or norms[j] in CONNECTORS:
            return None
        labels.extend(x for x in norms[j].split(".") if x)
        dotted = "." in norms[j]
        j += 1
    end = j
    while j + 1 < len(norms) and norms[j] in ("dot", ".") and ALNUM.match(norms[j + 1]):
        labels.extend(x for x in norms[j + 1].split(".") if x)
        dotted = True
        j += 2
        end = j
    if not dotted or not labels or labels[-1] not in TLDS:
        return None
    return end


_LOCAL_STOP = frozenset(
    [
        "website",
        "site",
        "web",
        "online",
        "us",
        "me",
        "him",
        "her",
        "them",
        "you",
        "it",
        "home",
        "office",
        "work",
        "page",
        "look",
        "find",
        "here",
        "there",
        "available",
    ]
)


def _local_part(tokens: Tokens, norms: list[str], at: int) -> int | None:
    """Start of the user part that ends just before the "at" at index ``at``."""
    s = at - 1
    if s < 0 or not ALNUM.match(norms[s]) or norms[s] in CONNECTORS or norms[s] in SKIP:
        return None
    if norms[s] in _LOCAL_STOP:
        return None
    while s > 0:
        prev = norms[s - 1]
        if prev in CONNECTORS and s >= 2 and ALNUM.match(norms[s - 2]):
            s -= 2  # "john dot smith"
        elif token_value(prev) is not None:
            s -= 1  # "jones eighty two"
        elif len(prev) == 1 and prev.isalpha() and (prev not in ("a", "i") or len(norms[s]) == 1):
            s -= 1  # spelled or an initial: "j o h n", "d kim"
        elif token_value(norms[s]) is not None and ALNUM.match(prev) and prev not in SKIP:
            s -= 1  # the word before the digits: "jones eighty two"
        else:
            break
    # "my email is john smith at ...": reach back to the trigger
    j = s - 1
    candidates: list[int] = []
    while j >= 0 and s - j <= 5:
        if norms[j] in ("email", "e-mail", "mail", "address", "emails"):
            if candidates and len(candidates) <= 2:
                s = min(candidates)
            break
        if norms[j] in SKIP and norms[j] not in ("number",):
            j -= 1
            continue
        if not ALNUM.match(norms[j]) or (
            norms[j] in COMMON_WORDS and not gazetteer().is_name(norms[j])
        ):
            break
        candidates.append(j)
        j -= 1
    return s


def find_emails(tokens: Tokens) -> list[Found]:
    norms = token_norms(tokens)
    out: list[Found] = []
    for k, norm in enumerate(norms):
        end: int | None
        if _WRITTEN_EMAIL.match(norm):
            end = _domain(norms, k + 1, norm.split("@", 1)[1]) or k + 1
            out.append(Found("email_address", k, end))
            continue
        if "@" in norm and not norm.startswith("@"):
            dom = norm.partition("@")[2]
            end = _domain(norms, k + 1, dom) if dom else _domain(norms, k + 1)
            if end is not None:
                out.append(Found("email_address", k, end))
            continue
        if norm not in ("at", "@"):
            continue
        end = _domain(norms, k + 1)
        start = _local_part(tokens, norms, k) if end is not None else None
        if end is not None and start is not None:
            out.append(Found("email_address", start, end))
    return out


def find_urls(tokens: Tokens) -> list[Found]:
    norms = token_norms(tokens)
    out: list[Found] = []
    n = len(norms)
    for k, norm in enumerate(norms):
        if "@" not in norm and _WRITTEN_URL.match(norm) and not re.fullmatch(r"[\d.]+", norm):
            out.append(Found("url", k, k + 1))
    k = 0
    while k < n:
        end = _domain(norms, k)
        if end is None or end - k < 3 or (k > 0 and norms[k - 1] in ("at", "@")):
            k += 1
            continue
        start = k
        if start >= 2 and norms[start - 1] in ("dot", "period") and norms[start - 2] == "www":
            start -= 2
        # "https colon slash slash"
        while start > 0 and norms[start - 1] in ("slash", "colon", "http", "https", "//"):
            start -= 1
        # trailing "slash help"
        while end + 1 < n and norms[end] in ("slash", "/") and ALNUM.match(norms[end + 1]):
            end += 2
        out.append(Found("url", start, end))
        k = end
    return out


def find_ips(tokens: Tokens) -> list[Found]:
    norms = token_norms(tokens)
    out: list[Found] = []
    n = len(norms)
    for k, norm in enumerate(norms):
        if _WRITTEN_IP.match(norm):
            out.append(Found("ip_address", k, k + 1))
    k = 0
    while k < n:
        j = k
        groups = 0
        while j < n:
            run = read_number(tokens, j, allow_o=True)
            if run is None or not 1 <= len(run.digits) <= 3 or run.amount:
                break
            groups += 1
            j = run.end
            if groups < 4 and j + 1 < n and norms[j] in ("dot", "point", "period"):
                j += 1
            else:
                break
        if groups == 4:
            out.append(Found("ip_address", k, j))
            k = j
        else:
            k += 1
    return out


_SECRET_TRIGGERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("password",), "password"),
    (("passcode",), "password"),
    (("pass", "code"), "password"),
    (("pin",), "password"),
    (("pin", "number"), "password"),
    (("maiden", "name"), "password"),
    (("security", "answer"), "password"),
    (("secret", "word"), "password"),
    (("username",), "username"),
    (("user", "name"), "username"),
    (("user", "id"), "username"),
    (("handle",), "username"),
    (("login",), "username"),
    (("screen", "name"), "username"),
)
_SECRET_SKIP = frozenset(
    [
        "is",
        "it's",
        "its",
        "was",
        "my",
        "the",
        "number",
        "no",
        "will",
        "be",
        "should",
        "just",
        "set",
        "to",
        "as",
        "uh",
        "um",
        "like",
        ",",
        ":",
        "that's",
        "thats",
    ]
)
_SPELLING = frozenset(
    [
        "capital",
        "uppercase",
        "lowercase",
        "upper",
        "lower",
        "case",
        "small",
        "letter",
        "number",
        "symbol",
        "dash",
        "underscore",
        "exclamation",
        "point",
        "mark",
        "hash",
        "pound",
        "at",
        "sign",
        "star",
        "dollar",
        "and",
    ]
)


def find_secrets(tokens: Tokens) -> list[Found]:
    norms = token_norms(tokens)
    n = len(norms)
    out: list[Found] = []
    for k in range(n):
        for phrase, policy in _SECRET_TRIGGERS:
            if not phrase_at(norms, k, phrase):
                continue
            j = k + len(phrase)
            skipped = 0
            while j < n and skipped < 5 and norms[j] in _SECRET_SKIP:
                j += 1
                skipped += 1
            if j >= n:
                break
            # "password reset" / "username field": without "is" the word right after is a
            # value only when it looks like one (digits, symbols, spelled, or joined)
            nxt2 = norms[j + 1] if j + 1 < n else ""
            if skipped == 0 and not (
                re.search(r"\d|@|_", norms[j])
                or norms[j] in _SPELLING
                or len(norms[j]) == 1
                or token_value(norms[j]) is not None
                or nxt2 in CONNECTORS
                or norms[j] not in COMMON_WORDS
            ):
                break
            end = read_code(tokens, j)
            w = norms[j]
            if end is None:
                if (
                    policy == "username"
                    and w in COMMON_WORDS
                    and w not in _SPELLING
                    and len(w) > 1
                    and nxt2 not in CONNECTORS
                ):
                    break
                if w in ("not", "that", "what", "this", "reset", "changed", "wrong", "expired"):
                    break
                end = j + 1
            # spelled or symbol-joined continuation: "capital p a s s one two"
            while end < n and end - j < 20:
                nxt = norms[end]
                if nxt in CONNECTORS and end + 1 < n and ALNUM.match(norms[end + 1]):
                    end += 2
                    continue
                if (len(nxt) == 1 and nxt.isalnum()) or nxt in _SPELLING:
                    end += 1
                    continue
                run = read_number(tokens, end, allow_o=True)
                if run is not None and not run.amount:
                    end = run.end
                    continue
                break
            while end > j and norms[end - 1] in _SPELLING and norms[end - 1] not in ("number",):
                end -= 1
            out.append(Found(policy, j, end))
            break
    for k, w in enumerate(norms):
        if re.fullmatch(r"@[a-z0-9_.]{2,}", w):
            out.append(Found("username", k, k + 1))
    return out

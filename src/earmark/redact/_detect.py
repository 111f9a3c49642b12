"""Rule-based PII detection over transcript words.

Each detector returns :class:`Found` spans of whole tokens (one token per transcript word).
:func:`detect` runs those of the enabled policies, keeps the higher-priority span where two
overlap, and merges touching spans of one policy. No model, no network: patterns, spoken-
number parsing (``_text``), trigger phrases and gazetteers (``_gazetteer``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from earmark.redact._gazetteer import MONTH_ABBR, MONTHS, NOT_NAMES, Gazetteer, gazetteer
from earmark.redact._lexicon import COMMON_WORDS
from earmark.redact._text import (
    DIGIT_WORDS,
    FILLERS,
    ORDINALS,
    TENS,
    NumberRun,
    Token,
    is_numberish,
    luhn_ok,
    read_number,
    token_value,
)

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
_ADDRESS = "_address"
"""A street address: reported as ``location``, but it outranks a name ("baker street")."""
_RANK = {p: i for i, p in enumerate(PRIORITY)}
_RANK[_ADDRESS] = _RANK["person_age"]
_ID_CODE = "_id_code"
"""A code after "tracking number", "order number"...: reported as ``number_sequence``, but
it outranks the phone number its digits may look like."""
_RANK[_ID_CODE] = _RANK["account_number"]
_ALIASES = {_ADDRESS: "location", _ID_CODE: "number_sequence"}


@dataclass(frozen=True)
class Found:
    policy: str
    start: int
    end: int
    """Exclusive token index."""


Tokens = list[Token]

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
CONNECTORS = {"dot": ".", "period": ".", "underscore": "_", "dash": "-", "hyphen": "-"}
SKIP = frozenset(
    (
        *FILLERS,
        *[
            "is",
            "it's",
            "its",
            "was",
            "be",
            "would",
            "should",
            "will",
            "that's",
            "thats",
            "the",
            "my",
            "our",
            "your",
            "it",
            "that",
            "um",
            "uh",
            "number",
            "no",
            "num",
            "#",
            "and",
            ",",
            ":",
            "-",
            "actually",
            "basically",
            "gonna",
            "going",
            "so",
            "yeah",
            "okay",
            "ok",
            "oh",
        ],
    )
)
_ALNUM = re.compile(r"^[a-z0-9][a-z0-9._\-]*$")
_WRITTEN_EMAIL = re.compile(r"^[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$")
_WRITTEN_URL = re.compile(
    r"^(https?://)?(www\.)?[a-z0-9\-]+(\.[a-z0-9\-]+)*\.(" + "|".join(sorted(TLDS)) + r")(/\S*)?$"
)
_WRITTEN_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_ORDINAL_DIGITS = re.compile(r"^\d{1,2}(st|nd|rd|th)$")
_DATE_DIGITS = re.compile(r"^\d{1,4}([/\-.]\d{1,4}){1,2}$")


def _norms(tokens: Tokens) -> list[str]:
    return [t.norm for t in tokens]


def _phrase_at(norms: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    return tuple(norms[i : i + len(phrase)]) == phrase


def _find_trigger(
    norms: list[str], end: int, phrases: Iterable[tuple[str, ...]], window: int
) -> int | None:
    """Index just after the nearest phrase ending within ``window`` tokens before ``end``."""
    best: int | None = None
    for phrase in phrases:
        lo = max(0, end - window - len(phrase) + 1)
        for i in range(end - len(phrase), lo - 1, -1):
            if _phrase_at(norms, i, phrase):
                stop = i + len(phrase)
                if best is None or stop > best:
                    best = stop
                break
    return best


def _skip(
    norms: list[str],
    i: int,
    limit: int = 4,
    extra: frozenset[str] = frozenset(),
    base: bool = True,
) -> int:
    k = 0
    while (
        i < len(norms)
        and k < limit
        and ((base and norms[i] in SKIP) or norms[i] in extra or not norms[i])
    ):
        i += 1
        k += 1
    return i


# ---------------------------------------------------------------- email, url, ip


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
        if j >= len(norms) or not _ALNUM.match(norms[j]) or norms[j] in CONNECTORS:
            return None
        labels.extend(x for x in norms[j].split(".") if x)
        dotted = "." in norms[j]
        j += 1
    end = j
    while j + 1 < len(norms) and norms[j] in ("dot", ".") and _ALNUM.match(norms[j + 1]):
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
    if s < 0 or not _ALNUM.match(norms[s]) or norms[s] in CONNECTORS or norms[s] in SKIP:
        return None
    if norms[s] in _LOCAL_STOP:
        return None
    while s > 0:
        prev = norms[s - 1]
        if prev in CONNECTORS and s >= 2 and _ALNUM.match(norms[s - 2]):
            s -= 2  # "john dot smith"
        elif token_value(prev) is not None:
            s -= 1  # "jones eighty two"
        elif len(prev) == 1 and prev.isalpha() and (prev not in ("a", "i") or len(norms[s]) == 1):
            s -= 1  # spelled or an initial: "j o h n", "d kim"
        elif token_value(norms[s]) is not None and _ALNUM.match(prev) and prev not in SKIP:
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
        if not _ALNUM.match(norms[j]) or (
            norms[j] in COMMON_WORDS and not gazetteer().is_name(norms[j])
        ):
            break
        candidates.append(j)
        j -= 1
    return s


def _emails(tokens: Tokens) -> list[Found]:
    norms = _norms(tokens)
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


def _urls(tokens: Tokens) -> list[Found]:
    norms = _norms(tokens)
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
        while end + 1 < n and norms[end] in ("slash", "/") and _ALNUM.match(norms[end + 1]):
            end += 2
        out.append(Found("url", start, end))
        k = end
    return out


def _ips(tokens: Tokens) -> list[Found]:
    norms = _norms(tokens)
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


# ---------------------------------------------------------------- dates


def _read_date(tokens: Tokens, i: int) -> int | None:
    """End of a date said at ``i``: "march seventh nineteen sixty one", "03/07/1961",
    "the seventh of march", "oh three twenty six"."""
    norms = _norms(tokens)
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


_DOB_TRIGGERS = (
    ("born",),
    ("birth",),
    ("birthday",),
    ("dob",),
    ("d", "o", "b"),
    ("birthdate",),
    ("d.o.b",),
)
_EXP_TRIGGERS = (
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


def _dates(tokens: Tokens, policy: str, triggers: tuple[tuple[str, ...], ...]) -> list[Found]:
    norms = _norms(tokens)
    out: list[Found] = []
    for k in range(len(norms)):
        for phrase in triggers:
            if _phrase_at(norms, k, phrase):
                j = _skip(norms, k + len(phrase), limit=5, extra=_DATE_SKIP)
                end = _read_date(tokens, j)
                if end is not None:
                    # strip trailing connectors
                    while end > j and norms[end - 1] in ("of", "the", "and", "slash", "dash"):
                        end -= 1
                    out.append(Found(policy, j, end))
                break
    return out


# ---------------------------------------------------------------- numbers


_NUMBER_CONTEXT: tuple[tuple[tuple[str, ...], str], ...] = (
    (("security", "code"), "cvv"),
    (("verification", "code"), "cvv"),
    (("cvv",), "cvv"),
    (("cvc",), "cvv"),
    (("cvv2",), "cvv"),
    (("csc",), "cvv"),
    (("c", "v", "v"), "cvv"),
    (("three", "digit", "code"), "cvv"),
    (("on", "the", "back"), "cvv"),
    (("social",), "ssn"),
    (("ssn",), "ssn"),
    (("s", "s", "n"), "ssn"),
    (("social", "security"), "ssn"),
    (("routing",), "bank"),
    (("iban",), "bank"),
    (("swift",), "bank"),
    (("sort", "code"), "bank"),
    (("bank",), "bank"),
    (("banking",), "bank"),
    (("checking",), "bank"),
    (("savings",), "bank"),
    (("aba",), "bank"),
    (("card",), "card"),
    (("visa",), "card"),
    (("mastercard",), "card"),
    (("amex",), "card"),
    (("credit",), "card"),
    (("debit",), "card"),
    (("expiration",), "exp"),
    (("expiry",), "exp"),
    (("expires",), "exp"),
    (("exp",), "exp"),
    (("zip",), "zip"),
    (("zipcode",), "zip"),
    (("postal",), "zip"),
    (("postcode",), "zip"),
    (("pin",), "pin"),
    (("passcode",), "pin"),
    (("password",), "pin"),
    (("phone",), "phone"),
    (("call",), "phone"),
    (("reach",), "phone"),
    (("cell",), "phone"),
    (("mobile",), "phone"),
    (("telephone",), "phone"),
    (("fax",), "phone"),
    (("extension",), "phone"),
    (("ext",), "phone"),
    (("dial",), "phone"),
    (("text",), "phone"),
    (("landline",), "phone"),
    (("callback",), "phone"),
    (("whatsapp",), "phone"),
    (("home", "number"), "phone"),
    (("work", "number"), "phone"),
    (("contact", "number"), "phone"),
    (("my", "number"), "phone"),
    (("your", "number"), "phone"),
    (("best", "number"), "phone"),
    (("account",), "account"),
    (("member",), "account"),
    (("membership",), "account"),
    (("policy",), "account"),
    (("customer",), "account"),
    (("subscriber",), "account"),
    (("license",), "dl"),
    (("licence",), "dl"),
    (("passport",), "passport"),
    (("medicare",), "health"),
    (("medicaid",), "health"),
    (("insurance",), "health"),
    (("health",), "health"),
    (("nhs",), "health"),
    (("number",), "id"),
    (("code",), "id"),
    (("id",), "id"),
    (("reference",), "id"),
    (("confirmation",), "id"),
    (("ticket",), "id"),
    (("case",), "id"),
    (("tracking",), "id"),
    (("serial",), "id"),
    (("invoice",), "id"),
    (("claim",), "id"),
    (("order",), "id"),
)
_GENERIC = "id"


def _number_context(norms: list[str], start: int, end: int) -> str | None:
    """The nearest specific context word before the number (within 8 words), else one
    within 4 words after it, else the generic "id" if a "number"/"code" word is near."""
    generic = False
    for i in range(start - 1, max(-1, start - 9), -1):
        hit = None
        for phrase, cat in _NUMBER_CONTEXT:
            if i - len(phrase) + 1 >= 0 and _phrase_at(norms, i - len(phrase) + 1, phrase):
                hit = cat
                break
        if hit == _GENERIC:
            generic = True
            continue
        if hit is not None:
            # "bank card" -> card; "social security" needs a look at the word before
            if hit == "bank" and i + 1 < start and norms[i + 1] == "card":
                return "card"
            return hit
        # another number between the context word and this one: stop looking
        if token_value(norms[i]) is not None and i < start - 1 and norms[i] not in ("o", "a"):
            break
    for i in range(end, min(len(norms), end + 4)):
        for phrase, cat in _NUMBER_CONTEXT:
            if _phrase_at(norms, i, phrase) and cat in ("phone", "card", "ssn", "zip"):
                return cat
    return _GENERIC if generic else None


def _raw_shape(tokens: Tokens, run: NumberRun) -> str:
    return " ".join(t.norm for t in tokens[run.start : run.end])


def _classify(tokens: Tokens, run: NumberRun, ctx: str | None) -> str | None:
    d = run.digits
    n = len(d)
    shape = _raw_shape(tokens, run)
    spoken_digits = all(
        t.norm in DIGIT_WORDS or t.norm in ("double", "triple") or t.norm in FILLERS
        for t in tokens[run.start : run.end]
    )
    if ctx == "cvv" and 3 <= n <= 4:
        return "credit_card_cvv"
    if ctx == "card" and (13 <= n <= 19 or n == 4):
        return "credit_card_number"
    if ctx == "exp" and 3 <= n <= 6:
        return "credit_card_expiration"
    if ctx == "ssn" and n in (4, 9):
        return "us_social_security_number"
    if ctx == "bank" and n >= 5:
        return "banking_information"
    if ctx == "account" and n >= 5:
        return "account_number"
    if ctx == "dl" and n >= 5:
        return "drivers_license"
    if ctx == "passport" and n >= 5:
        return "passport_number"
    if ctx == "health" and n >= 5:
        return "healthcare_number"
    if ctx == "zip" and n in (5, 9):
        return "location"
    if ctx == "pin" and 3 <= n <= 12:
        return "password"
    if ctx == "phone" and 7 <= n <= 15:
        return "phone_number"
    if 13 <= n <= 19 and luhn_ok(d) and not run.amount:
        return "credit_card_number"
    if re.fullmatch(r"\d{3}-\d{2}-\d{4}", shape):
        return "us_social_security_number"
    if run.amount:
        return None
    phone_shape = bool(
        re.fullmatch(r"\+?[\d\s().\-]{7,}", shape) and re.search(r"\d{3}[\s.\-)]+\d{3,4}", shape)
    )
    phone_length = n == 10 or (n == 11 and d[0] in "10") or (n in (12, 13) and d[:2] == "44")
    toll_free = d.startswith(("1800", "800", "1888", "888", "1877", "877"))
    if phone_length and (not run.cardinal or toll_free):
        return "phone_number"
    if phone_shape and 7 <= n <= 13:
        return "phone_number"
    if run.cardinal:
        return None
    if n == 7 and spoken_digits:
        return "phone_number"
    if ctx == _GENERIC and n >= 3:
        return "number_sequence"
    if n >= 6:
        return "number_sequence"
    return None


def _numbers(tokens: Tokens) -> list[Found]:
    norms = _norms(tokens)
    out: list[Found] = []
    k = 0
    n = len(tokens)
    while k < n:
        run = read_number(tokens, k)
        if run is None:
            k += 1
            continue
        ctx = _number_context(norms, run.start, run.end)
        after_month = run.start > 0 and (
            norms[run.start - 1] in MONTHS or norms[run.start - 1] in MONTH_ABBR
        )
        policy = (
            None if after_month and ctx not in ("card", "phone") else _classify(tokens, run, ctx)
        )
        if policy is not None:
            out.append(Found(policy, run.start, run.end))
        k = run.end
    return out


def _ages(tokens: Tokens) -> list[Found]:
    norms = _norms(tokens)
    out: list[Found] = []
    k = 0
    n = len(norms)
    while k < n:
        run = read_number(tokens, k)
        if run is None:
            k += 1
            continue
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
        k = run.end
    for k, w in enumerate(norms):
        m = re.fullmatch(r"(\d{1,3})-years?-old", w)
        if m:
            out.append(Found("person_age", k, k + 1))
    return out


# ---------------------------------------------------------------- triggered codes


def _read_code(
    tokens: Tokens, i: int, max_tokens: int = 16, short_words: bool = False
) -> int | None:
    """End of an identifier said at ``i``: digits, spoken digits, single letters, mixed
    letter-digit words, joined by "dash" (``short_words``: also words of up to 4 letters
    between such parts, as an IBAN's bank code "gb82 west 1234")."""
    norms = _norms(tokens)
    n = len(norms)
    j = i
    end = None
    chars = 0
    has_digit = False
    while j < n and j - i < max_tokens:
        w = norms[j]
        run = read_number(tokens, j, allow_o=end is not None)
        if run is not None and not run.cardinal and not run.amount:
            chars += len(run.digits)
            has_digit = True
            j = run.end
            end = j
            continue
        if re.fullmatch(r"[a-z0-9\-#]+", w) and re.search(r"\d", w) and re.search(r"[a-z]", w):
            chars += len(w)
            has_digit = True
            j += 1
            end = j
            continue
        if len(w) == 1 and w.isalpha() and (end is not None or j + 1 < n):
            chars += 1
            j += 1
            end = j
            continue
        if end is not None and w in ("dash", "hyphen", "-") and j + 1 < n:
            j += 1
            continue
        if short_words and end is not None and w.isalpha() and len(w) <= 4 and j + 1 < n:
            j += 1
            continue
        break
    if end is None or chars < 4 or (not has_digit and chars < 5):
        return None
    return end


_CODE_TRIGGERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("passport",), "passport_number"),
    (("driver's", "license"), "drivers_license"),
    (("drivers", "license"), "drivers_license"),
    (("driver", "license"), "drivers_license"),
    (("driver's", "licence"), "drivers_license"),
    (("driving", "licence"), "drivers_license"),
    (("license", "number"), "drivers_license"),
    (("dl",), "drivers_license"),
    (("member", "id"), "account_number"),
    (("member", "number"), "account_number"),
    (("membership", "number"), "account_number"),
    (("account", "number"), "account_number"),
    (("account", "id"), "account_number"),
    (("customer", "number"), "account_number"),
    (("customer", "id"), "account_number"),
    (("policy", "number"), "account_number"),
    (("routing", "number"), "banking_information"),
    (("iban",), "banking_information"),
    (("sort", "code"), "banking_information"),
    (("bank", "account"), "banking_information"),
    (("medicare",), "healthcare_number"),
    (("medicaid",), "healthcare_number"),
    (("insurance", "id"), "healthcare_number"),
    (("insurance", "number"), "healthcare_number"),
    (("health", "plan"), "healthcare_number"),
    (("nhs", "number"), "healthcare_number"),
    (("postal", "code"), _ADDRESS),
    (("postcode",), _ADDRESS),
    (("license", "plate"), _ID_CODE),
    (("tracking", "number"), _ID_CODE),
    (("tracking", "code"), _ID_CODE),
    (("serial", "number"), _ID_CODE),
    (("order", "number"), _ID_CODE),
    (("confirmation", "number"), _ID_CODE),
    (("confirmation", "code"), _ID_CODE),
    (("reference", "number"), _ID_CODE),
    (("case", "number"), _ID_CODE),
    (("ticket", "number"), _ID_CODE),
    (("claim", "number"), _ID_CODE),
    (("invoice", "number"), _ID_CODE),
    (("plate", "number"), _ID_CODE),
    (("vin",), _ID_CODE),
)
_CODE_SKIP = frozenset(["number", "no", "id", "is", "it's", "#", "of", "my", "the", "on"])


def _codes(tokens: Tokens) -> list[Found]:
    norms = _norms(tokens)
    out: list[Found] = []
    for k in range(len(norms)):
        for phrase, policy in _CODE_TRIGGERS:
            if not _phrase_at(norms, k, phrase):
                continue
            j = _skip(norms, k + len(phrase), limit=5, extra=_CODE_SKIP)
            end = _read_code(tokens, j, short_words=phrase == ("iban",))
            if end is not None:
                out.append(Found(policy, j, end))
            break
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


def _secrets(tokens: Tokens) -> list[Found]:
    norms = _norms(tokens)
    n = len(norms)
    out: list[Found] = []
    for k in range(n):
        for phrase, policy in _SECRET_TRIGGERS:
            if not _phrase_at(norms, k, phrase):
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
            end = _read_code(tokens, j)
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
                if nxt in CONNECTORS and end + 1 < n and _ALNUM.match(norms[end + 1]):
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


# ---------------------------------------------------------------- person names

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


def _persons(tokens: Tokens) -> list[Found]:
    g = gazetteer()
    norms = _norms(tokens)
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
            phrase = next((p for p in phrases if _phrase_at(norms, k, p)), None)
            if phrase is None:
                continue
            if phrase == ("called",) and k > 0 and norms[k - 1] in _NOT_AFTER_CALLED:
                break
            j = _skip(norms, k + len(phrase), limit=2, extra=_NAME_SKIP, base=False)
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


# ---------------------------------------------------------------- locations

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
    norms = _norms(tokens)
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


def _places(tokens: Tokens) -> list[Found]:
    g = gazetteer()
    norms = _norms(tokens)
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
            out.append(Found(_ADDRESS if hit > 1 else "location", k, k + hit))
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
        out.append(Found(_ADDRESS, start, end))
    # "p o box 123"
    for k in range(n):
        if norms[k] == "box" and k > 0 and norms[k - 1] in ("po", "o", "p.o"):
            start = k - 2 if k > 1 and norms[k - 2] == "p" else k - 1
            run = read_number(tokens, k + 1)
            if run is not None:
                out.append(Found(_ADDRESS, start, run.end))
    # "i live in <word>", "a town called <word>"
    for k in range(n):
        for phrase in _LOC_STRONG:
            if not _phrase_at(norms, k, phrase):
                continue
            j = _skip(norms, k + len(phrase), limit=2)
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


# ---------------------------------------------------------------- resolution

_DETECTORS: tuple[Callable[[Tokens], list[Found]], ...] = (
    _emails,
    _urls,
    _ips,
    lambda t: _dates(t, "date_of_birth", _DOB_TRIGGERS),
    lambda t: _dates(t, "credit_card_expiration", _EXP_TRIGGERS),
    _codes,
    _secrets,
    _numbers,
    _ages,
    _places,
    _persons,
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
            _ADDRESS,
            "person_name",
            _ID_CODE,
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

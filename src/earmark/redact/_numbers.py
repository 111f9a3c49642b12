"""Number-shaped PII: phone, card (with Luhn), CVV, SSN, bank, account and other ID numbers.

Every spoken or written number run (``_text.read_number``) is classified by its length and
the nearest context word ("card", "routing", "social", "phone"...), because the digits alone
rarely tell a phone number from an account number; without context only unambiguous shapes
are taken (a Luhn-valid 13-19 digit card, "123-45-6789", a ten-digit phone number, six or
more bare digits as a ``number_sequence``), and amounts, times and quantities never are.
Identifiers that mix letters and digits (passports, licences, IBANs, tracking codes) are
read after a trigger phrase by :func:`read_code`, which ``_contact`` also uses for
passwords.
"""

from __future__ import annotations

import re

from earmark.redact._gazetteer import MONTH_ABBR, MONTHS
from earmark.redact._spans import ADDRESS, ID_CODE, Found
from earmark.redact._text import (
    DIGIT_WORDS,
    FILLERS,
    NumberRun,
    Tokens,
    luhn_ok,
    number_runs,
    phrase_at,
    read_number,
    skip_words,
    token_norms,
    token_value,
)

__all__ = ["find_codes", "find_numbers", "read_code"]


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
            if i - len(phrase) + 1 >= 0 and phrase_at(norms, i - len(phrase) + 1, phrase):
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
            if phrase_at(norms, i, phrase) and cat in ("phone", "card", "ssn", "zip"):
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


def find_numbers(tokens: Tokens) -> list[Found]:
    norms = token_norms(tokens)
    out: list[Found] = []
    for run in number_runs(tokens):
        ctx = _number_context(norms, run.start, run.end)
        after_month = run.start > 0 and (
            norms[run.start - 1] in MONTHS or norms[run.start - 1] in MONTH_ABBR
        )
        policy = (
            None if after_month and ctx not in ("card", "phone") else _classify(tokens, run, ctx)
        )
        if policy is not None:
            out.append(Found(policy, run.start, run.end))
    return out


def read_code(
    tokens: Tokens, i: int, max_tokens: int = 16, short_words: bool = False
) -> int | None:
    """End of an identifier said at ``i``: digits, spoken digits, single letters, mixed
    letter-digit words, joined by "dash" (``short_words``: also words of up to 4 letters
    between such parts, as an IBAN's bank code "gb82 west 1234")."""
    norms = token_norms(tokens)
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
    (("postal", "code"), ADDRESS),
    (("postcode",), ADDRESS),
    (("license", "plate"), ID_CODE),
    (("tracking", "number"), ID_CODE),
    (("tracking", "code"), ID_CODE),
    (("serial", "number"), ID_CODE),
    (("order", "number"), ID_CODE),
    (("confirmation", "number"), ID_CODE),
    (("confirmation", "code"), ID_CODE),
    (("reference", "number"), ID_CODE),
    (("case", "number"), ID_CODE),
    (("ticket", "number"), ID_CODE),
    (("claim", "number"), ID_CODE),
    (("invoice", "number"), ID_CODE),
    (("plate", "number"), ID_CODE),
    (("vin",), ID_CODE),
)
_CODE_SKIP = frozenset(["number", "no", "id", "is", "it's", "#", "of", "my", "the", "on"])


def find_codes(tokens: Tokens) -> list[Found]:
    norms = token_norms(tokens)
    out: list[Found] = []
    for k in range(len(norms)):
        for phrase, policy in _CODE_TRIGGERS:
            if not phrase_at(norms, k, phrase):
                continue
            j = skip_words(norms, k + len(phrase), limit=5, extra=_CODE_SKIP)
            end = read_code(tokens, j, short_words=phrase == ("iban",))
            if end is not None:
                out.append(Found(policy, j, end))
            break
    return out

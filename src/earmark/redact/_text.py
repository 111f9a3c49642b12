"""Tokens and spoken numbers: the word-level view the PII detectors read.

One :class:`Token` per transcript word. ``norm`` is the word lower-cased with surrounding
punctuation stripped ("Smith," -> "smith", "(555)" -> "555"); inner punctuation stays
("555-1234", "john.smith@gmail.com", "i'm").

The end of the module holds the token helpers every detector module shares: the ``SKIP``
words a trigger may be followed by before its value, the spoken ``CONNECTORS`` ("dot",
"underscore"), and phrase matching over a list of norms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "ALNUM",
    "CONNECTORS",
    "SKIP",
    "NumberRun",
    "Token",
    "Tokens",
    "number_runs",
    "phrase_at",
    "read_number",
    "skip_words",
    "token_norms",
    "tokenize",
]

_STRIP = " \t\r\n\"'“”‘’`()[]{}<>,;!?…*"
_SENTENCE_END = (".", "?", "!")
_KEEP_CLITIC = frozenset(
    ["it's", "that's", "what's", "he's", "she's", "there's", "here's", "let's", "who's"]
)


@dataclass(frozen=True)
class Token:
    raw: str
    norm: str
    cased: bool
    """The word starts with an upper-case letter."""
    sent_start: bool
    """First word, or the previous word ended a sentence."""


def normalize(raw: str) -> str:
    text = raw.replace("’", "'").replace("‘", "'").lower().strip(_STRIP)
    while text.endswith(".") and not re.search(r"\d\.\d|\.\w+\.$", text):
        text = text[:-1].rstrip(_STRIP)
    text = text.strip(_STRIP)
    # a possessive or "is" clitic goes: "code's" -> "code", "it's" -> "it"
    if text.endswith("'s") and len(text) > 2 and text not in _KEEP_CLITIC:
        return text[:-2]
    return text


def tokenize(words: list[str]) -> list[Token]:
    out: list[Token] = []
    prev = ""
    for i, raw in enumerate(words):
        stripped = raw.strip(_STRIP)
        out.append(
            Token(
                raw=raw,
                norm=normalize(raw),
                cased=bool(stripped) and stripped[0].isupper(),
                sent_start=i == 0 or prev.rstrip("\"')”’").endswith(_SENTENCE_END),
            )
        )
        prev = raw
    return out


DIGIT_WORDS: dict[str, str] = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
TEENS: dict[str, str] = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
}
TENS: dict[str, str] = {
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fourty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}
ORDINALS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
SCALES = {"hundred": 2, "thousand": 3}
REPEATS = {"double": 2, "triple": 3}
FILLERS = frozenset({"uh", "um", "uhm", "umm", "er", "erm", "ah", "hmm", "mm", "like"})
_SEPARATORS = frozenset({"dash", "hyphen", "-"})

MONEY_AFTER = frozenset(
    {
        "dollar",
        "dollars",
        "buck",
        "bucks",
        "cent",
        "cents",
        "pound",
        "pounds",
        "euro",
        "euros",
        "percent",
        "%",
        "grand",
        "k",
        "usd",
    }
)
TIME_AFTER = frozenset({"am", "pm", "a.m", "p.m", "o'clock", "oclock", "hours", "hrs"})
UNITS_AFTER = frozenset(
    {
        "minute",
        "minutes",
        "second",
        "seconds",
        "hour",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "times",
        "items",
        "item",
        "units",
        "unit",
        "pieces",
        "piece",
        "boxes",
        "box",
        "people",
        "person",
        "orders",
        "packs",
        "pack",
        "bottles",
        "cases",
        "miles",
        "mile",
        "feet",
        "foot",
        "inches",
        "pounds",
        "kilos",
        "gigs",
        "gb",
        "mb",
        "megabytes",
        "gigabytes",
        "licenses",
        "seats",
        "users",
        "rings",
        "stars",
        "percent",
        "degrees",
        "kids",
        "calls",
        "tickets",
        "bedrooms",
        "cups",
        "ounces",
    }
)
_DIGITS_TOKEN = re.compile(r"^[+#(]?\d[\d\-./() ]*$")


@dataclass(frozen=True)
class NumberRun:
    """Consecutive number-bearing tokens ``[start, end)`` and the digits they spell."""

    start: int
    end: int
    digits: str
    cardinal: bool
    """Said with "hundred"/"thousand" or written with a decimal point: an amount, not a code."""
    amount: bool
    """Money, a time or a quantity with a unit: "$5", "five dollars", "3:30", "two items"."""
    groups: tuple[str, ...]
    """The digits of each token (formatting such as "555-12-3456" keeps its shape here)."""


def _digit_token(norm: str) -> str | None:
    if _DIGITS_TOKEN.match(norm):
        return re.sub(r"\D", "", norm)
    return None


def token_value(norm: str) -> str | None:
    """The digits one token says on its own, or None."""
    if norm in DIGIT_WORDS:
        return DIGIT_WORDS[norm]
    if norm in TEENS:
        return TEENS[norm]
    if norm in TENS:
        return TENS[norm] + "0"
    if "-" in norm:
        head, _, tail = norm.partition("-")
        if head in TENS and tail in DIGIT_WORDS:
            return TENS[head] + DIGIT_WORDS[tail]
    return _digit_token(norm)


def is_numberish(norm: str) -> bool:
    return (
        token_value(norm) is not None
        or norm in SCALES
        or norm in REPEATS
        or (norm.startswith(("$", "£", "€")) and _digit_token(norm[1:]) is not None)
    )


def number_runs(tokens: list[Token]) -> Iterator[NumberRun]:
    """Every number said in ``tokens``, left to right, none overlapping (:func:`read_number`)."""
    k = 0
    while k < len(tokens):
        run = read_number(tokens, k)
        if run is None:
            k += 1
            continue
        yield run
        k = run.end


def read_number(tokens: list[Token], start: int, *, allow_o: bool = False) -> NumberRun | None:
    """Read the number that starts at ``tokens[start]``, if one does.

    Spoken forms are concatenated the way people say codes: "five five five" -> 555,
    "eight hundred" -> 800, "nineteen sixty one" -> 1961, "double five" -> 55,
    "oh seven seven" -> 077. Fillers and "dash" inside the run are skipped.
    """
    n = len(tokens)
    i = start
    parts: list[str] = []
    groups: list[str] = []
    cardinal = amount = False
    scale = 0
    last = start
    while i < n:
        norm = tokens[i].norm
        # "oh" opens a number only when a digit follows ("oh seven seven ...")
        if (
            norm in ("o", "oh")
            and not parts
            and not allow_o
            and (i + 1 >= n or token_value(tokens[i + 1].norm) is None)
        ):
            break
        if norm.startswith(("$", "£", "€")) and _digit_token(norm[1:]) is not None:
            amount = True
            norm = norm[1:]
        if norm.endswith("%"):
            amount = True
            norm = norm[:-1]
        if ":" in norm and re.fullmatch(r"\d{1,2}:\d{2}(am|pm)?", norm):
            amount = True
            parts.append(re.sub(r"\D", "", norm))
            groups.append(parts[-1])
            last = i
            i += 1
            continue
        if re.fullmatch(r"\d+\.\d+", norm):
            cardinal = True
        if re.fullmatch(r"\d{1,3}(,\d{3})+", tokens[i].raw.strip(_STRIP + ".")):
            cardinal = True
        value = token_value(norm)
        if norm in REPEATS and i + 1 < n and tokens[i + 1].norm in DIGIT_WORDS:
            value = DIGIT_WORDS[tokens[i + 1].norm] * REPEATS[norm]
            parts.append(value)
            groups.append(value)
            last = i + 1
            i += 2
            continue
        if norm in SCALES and parts and len(parts[-1]) <= 2 and parts[-1] != "0":
            cardinal = True
            scale = SCALES[norm]
            parts[-1] = parts[-1] + "0" * scale
            groups[-1] = parts[-1]
            last = i
            i += 1
            continue
        if value is None:
            if parts and (norm in FILLERS or norm in _SEPARATORS) and i + 1 < n:
                nxt = token_value(tokens[i + 1].norm)
                if nxt is not None:
                    i += 1
                    continue
            if (
                parts
                and norm == "and"
                and cardinal
                and i + 1 < n
                and token_value(tokens[i + 1].norm) is not None
            ):
                i += 1
                continue
            break
        if norm in TENS and i + 1 < n and tokens[i + 1].norm in DIGIT_WORDS:
            unit = DIGIT_WORDS[tokens[i + 1].norm]
            if unit != "0" or tokens[i + 1].norm == "zero":
                value = TENS[norm] + unit
                i += 1
        # "two thousand five" -> 2005, "eight hundred twelve" -> 812; but "eight hundred
        # five five five" is a phone number: after "hundred" only a two-digit value merges
        if scale and set(parts[-1][1:]) == {"0"} and len(value) < len(parts[-1]):
            merge = scale == 3 or len(value) == 2
            scale = 0
            if merge and value != "0":
                parts[-1] = parts[-1][: len(parts[-1]) - len(value)] + value
                groups[-1] = parts[-1]
                last = i
                i += 1
                continue
        scale = 0
        parts.append(value)
        groups.append(value)
        last = i
        i += 1
    if not parts:
        return None
    end = last + 1
    if end < n:
        after = tokens[end].norm
        if after in MONEY_AFTER or after in TIME_AFTER or after in UNITS_AFTER:
            amount = True
    if start > 0 and tokens[start - 1].norm in ("$", "£", "€"):
        amount = True
    return NumberRun(start, end, "".join(parts), cardinal, amount, tuple(groups))


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 12:
        return False
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


Tokens = list[Token]

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
ALNUM = re.compile(r"^[a-z0-9][a-z0-9._\-]*$")


def token_norms(tokens: Tokens) -> list[str]:
    return [t.norm for t in tokens]


def phrase_at(norms: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    return tuple(norms[i : i + len(phrase)]) == phrase


def skip_words(
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

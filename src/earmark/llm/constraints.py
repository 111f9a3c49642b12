"""Output constraints: JSON schemas, GBNF grammars, and matching a free answer to a choice."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from typing import Any

from earmark.errors import InputError
from earmark.llm.types import ResponseFormat

__all__ = [
    "choice_grammar",
    "choice_schema",
    "gbnf_literal",
    "match_choice",
    "normalise",
    "response_format_grammar",
    "schema_to_gbnf",
]


def choice_schema(choices: Sequence[str], key: str = "tag") -> dict[str, Any]:
    """A JSON schema for ``{"<key>": one of choices}``."""
    return {
        "type": "object",
        "properties": {key: {"type": "string", "enum": list(choices)}},
        "required": [key],
        "additionalProperties": False,
    }


def gbnf_literal(text: str) -> str:
    """``text`` as a quoted GBNF string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    escaped = escaped.replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def choice_grammar(choices: Sequence[str]) -> str:
    """A GBNF grammar whose only sentences are the choices, verbatim."""
    if not choices:
        raise InputError("a choice grammar needs at least one choice")
    return "root ::= " + " | ".join(gbnf_literal(c) for c in choices) + "\n"


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """Convert a JSON schema to a GBNF grammar with llama.cpp's own converter.

    Supports what llama.cpp supports: objects, arrays, strings, numbers, integers,
    booleans, enums, consts, ``anyOf``/``oneOf``, local ``$ref``s and more.
    """
    from cyllama.llama.llama_cpp import json_schema_to_grammar

    try:
        return str(json_schema_to_grammar(json.dumps(schema)))
    except (ValueError, RuntimeError) as exc:
        raise InputError(f"response_format: cannot use this JSON schema: {exc}") from exc


def response_format_grammar(fmt: ResponseFormat | None) -> str | None:
    """The grammar that enforces ``fmt`` on a local model, or ``None`` for free text."""
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return schema_to_gbnf({"type": "object"})
    if not isinstance(fmt.schema, dict):
        raise InputError("response_format: json_schema needs a 'schema' object")
    return schema_to_gbnf(fmt.schema)


_STRIP = re.compile(r"^[\s\"'`*_#>\-.:\[\](){}]+|[\s\"'`*_#>\-.:!,;\[\](){}]+$")
_PREFIX = re.compile(
    r"^(?:the\s+)?(?:most\s+relevant\s+)?"
    r"(?:topic|tag|category|label|answer|selection)s?\s*(?:is|:|=)\s*",
    re.I,
)


def normalise(text: str) -> str:
    """Lower-case, trim quotes/markdown/punctuation and a leading "Topic:"-style phrase."""
    t = text.strip()
    for _ in range(3):
        t = _STRIP.sub("", t)
        t = _PREFIX.sub("", t)
    return re.sub(r"\s+", " ", t).casefold()


def match_choice(answer: str, choices: Sequence[str], *, cutoff: float = 0.8) -> str | None:
    """Map a model's free answer onto one of ``choices``, or ``None`` when it names none.

    Tries, in order: a JSON object or string holding a choice; an exact match after
    normalisation; the single choice named as a whole phrase in the answer (the one
    named first when several are); a close spelling (difflib ratio >= ``cutoff``).
    The result is always an element of ``choices``.
    """
    if not choices:
        return None
    by_norm = {normalise(c): c for c in choices}
    parsed = _json_value(answer)
    if parsed is not None:
        hit = by_norm.get(normalise(parsed))
        if hit is not None:
            return hit
    text = normalise(answer)
    if text in by_norm:
        return by_norm[text]
    first_line = normalise(answer.strip().splitlines()[0]) if answer.strip() else ""
    if first_line in by_norm:
        return by_norm[first_line]
    found: list[tuple[int, int, str]] = []
    for norm, original in by_norm.items():
        m = re.search(r"(?<![\w])" + re.escape(norm) + r"(?![\w])", text)
        if m:
            found.append((m.start(), -len(norm), original))
    if found:
        return min(found)[2]
    close = difflib.get_close_matches(first_line or text, list(by_norm), n=1, cutoff=cutoff)
    return by_norm[close[0]] if close else None


def _json_value(answer: str) -> str | None:
    """The first string value of a JSON object (or a JSON string) in ``answer``."""
    start = answer.find("{")
    candidates = [answer.strip()]
    if start >= 0:
        end = answer.rfind("}")
        if end > start:
            candidates.insert(0, answer[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, ValueError):
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            for v in value.values():
                if isinstance(v, str):
                    return v
    return None

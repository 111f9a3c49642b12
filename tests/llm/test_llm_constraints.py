"""Prompt and constraint helpers: the transcript rule, ChatML, grammars, choice matching."""

from __future__ import annotations

import random
import string

import pytest

from earmark.errors import InputError
from earmark.llm import Message, ResponseFormat
from earmark.llm.constraints import (
    choice_grammar,
    choice_schema,
    match_choice,
    response_format_grammar,
    schema_to_gbnf,
)
from earmark.llm.prompt import format_chatml, inject_transcript, tag_prompt

TAGS = ["Sports", "Politics", "World News", "Technology", "Crime"]


def test_inject_transcript_first_message_first_occurrence_only() -> None:
    messages = (
        Message("system", "no tag here {{transcript}} {{ TRANSCRIPT }}"),
        Message("user", "A {{ transcript }} B {{ transcript }}"),
        Message("user", "later {{ transcript }}"),
    )
    out, injected = inject_transcript(messages, "TEXT")
    assert injected
    assert out[0] == messages[0]
    assert out[1].content == "A TEXT B {{ transcript }}"
    assert out[2] == messages[2]
    same, injected = inject_transcript((Message("user", "{{transcript}}"),), "TEXT")
    assert not injected and same[0].content == "{{transcript}}"


def test_format_chatml_adds_default_system_and_generation_prompt() -> None:
    text = format_chatml([Message("user", "hi")])
    assert text.startswith("<|im_start|>system\n")
    assert text.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    own = format_chatml([Message("system", "S"), Message("user", "hi")])
    assert own.count("<|im_start|>system") == 1 and "S<|im_end|>" in own


def test_tag_prompt_is_the_guides_by_default_and_overridable() -> None:
    tags = {"Sports": "Games.", "Crime": "Police."}
    text = tag_prompt(tags)
    assert "Select the most relevant topic from the list." in text
    assert "Return your selection and nothing else." in text
    assert str(tags) in text
    assert tag_prompt(tags, "Pick one of {tag_names}:\n{tag_lines}") == (
        "Pick one of Sports, Crime:\n- Sports: Games.\n- Crime: Police."
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Sports", "Sports"),
        ("  sports.  ", "Sports"),
        ('{"tag": "World News"}', "World News"),
        ('"Technology"', "Technology"),
        ("**Topic:** Crime", "Crime"),
        ("The most relevant topic is Politics.", "Politics"),
        ("World News\n\nBecause the text is about a summit.", "World News"),
        ("Sprots", "Sports"),
        ("Pizza", None),
        ("", None),
        ("I cannot decide.", None),
    ],
)
def test_match_choice(answer: str, expected: str | None) -> None:
    assert match_choice(answer, TAGS) == expected


def test_match_choice_never_returns_outside_the_list() -> None:
    rng = random.Random(7)
    alphabet = string.ascii_letters + " .,:{}\"'\n"
    for _ in range(500):
        answer = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.3:
            answer += rng.choice(TAGS).lower()
        got = match_choice(answer, TAGS)
        assert got is None or got in TAGS


def test_choice_grammar_escapes_literals() -> None:
    grammar = choice_grammar(['Say "hi"', "a\\b"])
    assert grammar == 'root ::= "Say \\"hi\\"" | "a\\\\b"\n'
    with pytest.raises(InputError):
        choice_grammar([])


def test_schema_to_gbnf_covers_enum_object_string_number_array() -> None:
    schema = {
        "type": "object",
        "properties": {
            "tag": {"type": "string", "enum": ["Sports", "World News"]},
            "score": {"type": "number"},
            "words": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["tag", "score", "words"],
    }
    grammar = schema_to_gbnf(schema)
    assert "root ::=" in grammar
    assert '"\\"World News\\""' in grammar
    assert "number" in grammar and "[" in grammar
    assert "root ::=" in schema_to_gbnf(choice_schema(TAGS))


def test_response_format_grammar() -> None:
    assert response_format_grammar(None) is None
    assert response_format_grammar(ResponseFormat("text")) is None
    assert "object" in (response_format_grammar(ResponseFormat("json_object")) or "")
    with pytest.raises(InputError):
        response_format_grammar(ResponseFormat("json_schema", None))

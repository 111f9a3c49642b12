"""Learning from corrections: examples added, limits respected, none skipped, YAML round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.errors import InputError
from earmark.tagging import dump_tags, load_tags
from earmark.tagging.taglist import MAX_EXAMPLE_CHARS, MAX_EXAMPLES
from earmark.tagging.teach import (
    Correction,
    example_text,
    load_corrections,
    passages,
    teach,
    teach_with_summary,
)
from earmark.types import Tag

TAGS = load_tags(
    {
        "Sports": {"description": "Football matches and the league.", "examples": ["a goal"]},
        "Billing": "Invoices, charges and refunds.",
    }
)


def test_examples_added_and_none_skipped() -> None:
    corrections = [
        Correction("The striker scored twice", "sports", wrong="Billing"),  # case ignored
        Correction("I was charged twice", "Billing"),
        Correction("hello there", None),
        Correction("nothing fits", "none"),
        Correction("  A GOAL ", "Sports"),  # already an example
    ]
    taught, summary = teach_with_summary(TAGS, corrections)
    sports, billing = taught.tags
    assert sports.examples == ("a goal", "The striker scored twice")
    assert billing.examples == ("I was charged twice",)
    assert summary.added == {"Sports": 1, "Billing": 1}
    assert (summary.skipped_none, summary.skipped_duplicate, summary.corrections) == (2, 1, 5)
    assert any("labelled none" in line for line in summary.lines())
    assert TAGS.tags[0].examples == ("a goal",)  # the input is not changed
    assert teach(TAGS, corrections) == taught
    with pytest.raises(InputError, match="'Weather': not a tag"):
        teach(TAGS, [Correction("rain", "Weather")])


def test_limits_respected_and_yaml_round_trip(tmp_path: Path) -> None:
    long_text = " ".join(
        ["we talked about the weather and the holidays for a while"] * 10
        + ["then the invoice showed a double charge and I want a refund"]
        + ["and my cousin visited last week with the dog"] * 10
    )
    assert len(long_text) > 2 * MAX_EXAMPLE_CHARS
    many = [Correction(f"charge number {i}", "Billing") for i in range(MAX_EXAMPLES + 5)]
    taught, summary = teach_with_summary(TAGS, [Correction(long_text, "Billing"), *many])
    billing = taught.tags[1]
    assert len(billing.examples) == MAX_EXAMPLES
    assert summary.skipped_full == 6 and summary.added == {"Billing": MAX_EXAMPLES}
    first = billing.examples[0]
    assert len(first) <= MAX_EXAMPLE_CHARS
    assert "invoice showed a double charge" in first  # the passage about the tag is kept
    saved = tmp_path / "my_tags.yaml"
    saved.write_text(dump_tags(taught))
    assert load_tags(str(saved)).tags == taught.tags  # the YAML file reads back the same


def test_passages_and_example_rule() -> None:
    unpunctuated = " ".join(f"word{i}" for i in range(300))
    parts = passages(unpunctuated)
    assert all(len(p) <= 250 for p in parts) and " ".join(parts) == unpunctuated
    assert passages("One. Two! Three?") == ["One. Two! Three?"]  # short sentences packed
    tag = Tag("Sports", "football")
    assert example_text("  short   text ", tag) == "short text"
    text = ("x " * 200) + "the football final. " + ("y " * 200)
    scores = [{"Sports": 1.0 if "football" in p else 0.0} for p in passages(text)]
    ex = example_text(text, tag, scores=scores)
    assert "football" in ex and len(ex) <= MAX_EXAMPLE_CHARS
    # ranked by relevance to the right tag minus the wrong one
    parts = passages(("a " * 100) + ". " + ("b " * 100) + ". " + ("c " * 100))
    assert len(parts) == 3
    scores = [
        {"Sports": 0.9, "Other": 0.9},
        {"Sports": 0.6, "Other": 0.0},
        {"Sports": 0.1, "Other": 0.0},
    ]
    picked = example_text(" ".join(parts), tag, "Other", scores=scores, max_chars=320)
    assert picked.startswith("b ") and "a a" not in picked


def test_load_corrections_from_csv_and_jsonl(tmp_path: Path) -> None:
    errors = tmp_path / "errors.csv"
    errors.write_text(
        "text,file,gold,predicted,relevance,also,id\n"
        "my invoice is wrong,,Billing,Sports,0.7,,1\nhello,,none,Sports,0.6,,2\n"
    )
    assert load_corrections(errors) == [
        Correction("my invoice is wrong", "Billing", "Sports"),
        Correction("hello", None, "Sports"),
    ]
    jl = tmp_path / "fixes.jsonl"
    jl.write_text('{"text": "the match", "label": "Sports"}\n')
    assert load_corrections(jl) == [Correction("the match", "Sports", None)]
    (tmp_path / "a.wav").write_bytes(b"RIFF")
    audio = tmp_path / "audio.csv"
    audio.write_text("file,label\na.wav,Sports\n")
    with pytest.raises(InputError, match="needs the 'text'"):
        load_corrections(audio)

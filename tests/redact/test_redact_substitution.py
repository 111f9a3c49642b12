"""Substitution modes, consistency of words/segments/text, options and validation."""

from __future__ import annotations

import pytest
from redact_helpers import WORD_MS, transcript

from earmark.errors import InputError
from earmark.redact import (
    ASSEMBLYAI_POLICIES,
    POLICIES,
    PiiSpan,
    RedactOptions,
    redact,
    validate_policies,
)
from earmark.types import Transcript

TEXT = "hi my name is John Smith, my number is five five five one two three four."


def consistent(t: Transcript) -> None:
    for seg in t.segments:
        if seg.words:
            assert seg.text == " ".join(w.text for w in seg.words)
            for a, b in zip(seg.words, seg.words[1:], strict=False):
                assert a.start_ms <= a.end_ms <= b.start_ms
    assert t.text == " ".join(s.text for s in t.segments)


def test_hash_keeps_every_word_and_its_times() -> None:
    before = transcript(TEXT)
    result = redact(before, RedactOptions(("person_name", "phone_number"), "hash"))
    after = result.transcript
    assert after.text == (
        "hi my name is #### #####, my number is #### #### #### ### ### ##### ####."
    )
    assert len(after.words) == len(before.words)
    assert [(w.start_ms, w.end_ms) for w in after.words] == [
        (w.start_ms, w.end_ms) for w in before.words
    ]
    consistent(after)


def test_default_substitution_is_hash() -> None:
    assert RedactOptions(("person_name",)).substitution == "hash"


def test_entity_name_puts_the_label_on_the_first_word() -> None:
    before = transcript(TEXT)
    result = redact(before, RedactOptions(("person_name", "phone_number"), "entity_name"))
    after = result.transcript
    assert after.text == "hi my name is [PERSON_NAME], my number is [PHONE_NUMBER]."
    consistent(after)
    words = {w.text: w for w in after.words}
    name = words["[PERSON_NAME],"]
    assert (name.start_ms, name.end_ms) == (4 * WORD_MS, 5 * WORD_MS + WORD_MS - 50)
    phone = words["[PHONE_NUMBER]."]
    assert phone.start_ms == 9 * WORD_MS
    assert phone.end_ms == before.words[-1].end_ms
    assert phone.speaker == "A"


def test_spans_report_policy_times_and_words() -> None:
    result = redact(transcript(TEXT), RedactOptions(("person_name", "phone_number")))
    assert result.spans == (
        PiiSpan("person_name", 4 * WORD_MS, 5 * WORD_MS + 350, "John Smith,"),
        PiiSpan(
            "phone_number", 9 * WORD_MS, 15 * WORD_MS + 350, "five five five one two three four."
        ),
    )


def test_untouched_segments_are_the_same_objects() -> None:
    before = transcript("hello there", "my name is john smith", "okay bye")
    after = redact(before, RedactOptions(("person_name",))).transcript
    assert after.segments[0] is before.segments[0]
    assert after.segments[2] is before.segments[2]
    assert after.segments[1].text == "my name is #### #####"
    consistent(after)


def test_span_across_segments_gets_a_label_in_each() -> None:
    before = transcript("my number is five five five", "one two three four thanks")
    result = redact(before, RedactOptions(("phone_number",), "entity_name"))
    assert len(result.spans) == 1
    texts = [s.text for s in result.transcript.segments]
    assert texts == ["my number is [PHONE_NUMBER]", "[PHONE_NUMBER] thanks"]
    consistent(result.transcript)


def test_segments_without_words_are_redacted_on_their_text() -> None:
    before = transcript("my name is john smith", words=False)
    result = redact(before, RedactOptions(("person_name",), "entity_name"))
    assert result.transcript.text == "my name is [PERSON_NAME]"
    assert result.transcript.segments[0].words == ()
    span = result.spans[0]
    assert before.segments[0].start_ms <= span.start_ms < span.end_ms
    assert span.end_ms <= before.segments[0].end_ms


def test_nothing_found_returns_the_transcript() -> None:
    before = transcript("nothing to see here")
    result = redact(before, RedactOptions(POLICIES))
    assert result.transcript is before and result.spans == ()


def test_validate_policies() -> None:
    assert validate_policies(["phone_number", "email_address", "phone_number"]) == (
        "phone_number",
        "email_address",
    )
    assert set(POLICIES) <= set(ASSEMBLYAI_POLICIES)
    with pytest.raises(InputError, match="medical_condition") as err:
        validate_policies(["phone_number", "medical_condition", "drug"])
    assert "drug" in str(err.value) and err.value.status_code == 400
    with pytest.raises(InputError, match="'bogus'"):
        validate_policies(["bogus"])
    with pytest.raises(InputError):
        validate_policies([])


def test_options_validate() -> None:
    with pytest.raises(InputError, match="zodiac_sign"):
        RedactOptions(("zodiac_sign",))
    with pytest.raises(InputError, match="redact_pii_sub"):
        RedactOptions(("person_name",), "stars")  # type: ignore[arg-type]
    assert RedactOptions(["person_name"]).policies == ("person_name",)  # type: ignore[arg-type]

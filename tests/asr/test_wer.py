"""The WER used by tests and benchmarks."""

from __future__ import annotations

import pytest

from earmark.asr.wer import corpus_wer, error_counts, normalize_text, word_error_rate


def test_normalisation() -> None:
    assert normalize_text("And so, my fellow Americans: ask NOT!") == [
        "and", "so", "my", "fellow", "americans", "ask", "not",
    ]  # fmt: skip
    assert normalize_text("Don't—they’re well-known (10%)") == [
        "dont", "theyre", "well", "known", "10",
    ]  # fmt: skip
    assert normalize_text("  ") == []


@pytest.mark.parametrize(
    ("ref", "hyp", "wer"),
    [
        ("ask not what your country", "Ask not, what your country?", 0.0),
        ("ask not what your country", "ask what your country", 0.2),  # deletion
        ("ask not what your country", "ask not what our country", 0.2),  # substitution
        ("ask not what your country", "so ask not what your country", 0.2),  # insertion
        ("a b", "c d e f", 2.0),
        ("ten dollars", "10 dollars", 0.5),  # numbers are left as they come
    ],
)
def test_word_error_rate(ref: str, hyp: str, wer: float) -> None:
    assert word_error_rate(ref, hyp) == pytest.approx(wer)


def test_empty_reference() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "words") == 1.0
    assert error_counts("", "two words").errors == 2


def test_corpus_wer_weights_by_reference_length() -> None:
    pairs = [("a b c d e f g h i j", "a b c d e f g h i j"), ("x", "y")]
    assert corpus_wer(pairs) == pytest.approx(1 / 11)

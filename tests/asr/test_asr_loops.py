"""Repetition loops: collapse_loops / count_loops, and how convert_segments uses them.

Real loop strings (Whisper base on the MIT licence of ``multilingual.mp3`` and on long
LibriSpeech files) must be cut to two repeats and counted; ordinary speech with repeats
("no no no", stutters, "thank you, thank you") must be kept word for word.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from earmark.asr.faster_whisper import convert_segments
from earmark.asr.loops import MAX_NGRAM, collapse_loops, count_loops, normalize_for_loops


def collapsed(text: str) -> str:
    words = text.split()
    return " ".join(words[i] for i in collapse_loops(words))


# --------------------------------------------------------------------------- real loops

LOOP = "the above copyright notice and " * 6 + "this permission notice"


def test_copyright_loop_cut_to_two_repeats() -> None:
    assert collapsed(LOOP) == (
        "the above copyright notice and the above copyright notice and this permission notice"
    )


def test_copyright_loop_counted_once() -> None:
    assert count_loops(LOOP) == 1
    assert count_loops(collapsed(LOOP)) == 0


def test_loop_of_punctuated_words_is_still_a_loop() -> None:
    text = "Thank you. " * 8
    assert count_loops(text) == 1
    assert collapsed(text) == "Thank you. Thank you."


def test_case_and_punctuation_do_not_hide_a_loop() -> None:
    text = "I'm sorry, I'm sorry. I'M SORRY I'm sorry! i'm sorry"
    assert count_loops(text) == 1
    assert collapsed(text) == "I'm sorry, I'm sorry."


def test_one_word_loop() -> None:
    text = "so " + "yeah " * 20 + "okay"
    assert count_loops(text) == 1
    assert collapsed(text) == "so yeah yeah okay"


def test_two_loops_in_one_text() -> None:
    text = "we go " + "to the shop " * 5 + "and then " + "back home " * 4 + "finally"
    assert count_loops(text) == 2
    assert collapsed(text) == "we go to the shop to the shop and then back home back home finally"


def test_longest_phrase_looked_for() -> None:
    phrase = " ".join(f"w{i}" for i in range(MAX_NGRAM))
    text = " ".join([phrase] * 4)
    assert count_loops(text) == 1
    assert collapsed(text) == " ".join([phrase] * 2)


def test_partial_last_repeat_is_kept() -> None:
    text = "one two three " * 4 + "one two"
    assert collapsed(text) == "one two three one two three one two"


# --------------------------------------------------------------------------- legit repeats


@pytest.mark.parametrize(
    "text",
    [
        "no no no",
        "no no no no no",  # five: still speech
        "very very very good",
        "I I I think so",
        "we we went there",
        "thank you thank you thank you",  # three repeats of a phrase
        "bye bye",
        "ha ha ha",
        "nine nine nine nine",  # a PIN
        "it is what it is",
        "that that is is that that is not is not",
        "one two three four five six seven eight nine ten",
        "",
    ],
)
def test_ordinary_speech_is_kept(text: str) -> None:
    assert count_loops(text) == 0
    assert collapsed(text) == text


def test_empty_and_punctuation_only() -> None:
    assert collapse_loops([]) == []
    assert collapse_loops(["-", "-", "-", "-", "-", "-", "-"]) == list(range(7))
    assert count_loops("... ... ... ... ... ... ...") == 0


def test_normalize_for_loops() -> None:
    assert normalize_for_loops("Don't, STOP!") == "don't stop"


# --------------------------------------------------------------------------- known gaps


def test_loop_of_a_long_phrase() -> None:
    phrase = "the above copyright notice and this permission notice shall be included"
    assert count_loops(" ".join([phrase] * 4)) == 1


def test_six_zeros_are_a_number_not_a_loop() -> None:
    text = "one million is one zero zero zero zero zero zero"
    assert collapsed(text) == text


def test_count_and_collapse_agree_on_hyphenated_words() -> None:
    text = "Ha-ha-ha-ha Ha-ha-ha-ha"
    assert (count_loops(text) == 0) == (collapsed(text) == text)


# --------------------------------------------------------------------------- convert_segments


def _word(text: str, start: float, end: float) -> SimpleNamespace:
    return SimpleNamespace(word=" " + text, start=start, end=end, probability=0.9)


def _seg(text: str, start: float, end: float, words: bool = True) -> SimpleNamespace:
    ws = []
    if words:
        toks = text.split()
        step = (end - start) / max(1, len(toks))
        ws = [_word(t, start + i * step, start + (i + 1) * step) for i, t in enumerate(toks)]
    return SimpleNamespace(text=" " + text, start=start, end=end, words=ws, avg_logprob=-0.2)


def test_convert_collapses_a_loop_inside_a_segment_words_and_text() -> None:
    seg = _seg("so " + "the above copyright notice and " * 5 + "done", 0.0, 10.0)
    (out,) = convert_segments([seg], 0, 10_000)
    assert out.text == "so the above copyright notice and the above copyright notice and done"
    assert [w.text for w in out.words] == out.text.split()
    assert out.words[-1].end_ms == 10_000  # the kept last word keeps its own time


def test_convert_collapses_a_loop_without_words() -> None:
    seg = _seg("yes " * 10, 0.0, 5.0, words=False)
    (out,) = convert_segments([seg], 0, 5_000)
    assert out.text == "yes yes"


def test_convert_drops_a_segment_that_repeats_the_one_before() -> None:
    segs = [
        _seg("We will meet tomorrow.", 0.0, 2.0),
        _seg("we will meet tomorrow", 2.0, 4.0),
        _seg("We will meet tomorrow!", 4.0, 6.0),
        _seg("At nine.", 6.0, 7.0),
    ]
    out = list(convert_segments(segs, 0, 7_000))
    assert [s.text for s in out] == ["We will meet tomorrow.", "At nine."]
    assert [s.id for s in out] == [0, 1]


def test_convert_keeps_ordinary_repeats() -> None:
    segs = [_seg("no no no, I said no no", 0.0, 3.0)]
    (out,) = convert_segments(segs, 0, 3_000)
    assert out.text == "no no no, I said no no"


def test_convert_keeps_a_second_speakers_same_short_reply() -> None:
    # agent: "Okay." (0-1 s), caller: "Okay." (3-4 s): two turns, not a loop
    segs = [_seg("Okay.", 0.0, 1.0), _seg("Okay.", 3.0, 4.0)]
    assert len(list(convert_segments(segs, 0, 4_000))) == 2


def test_convert_drops_segments_that_repeat_once_collapsed() -> None:
    # Whisper base, temperature 0, on French+English sentence switching (espeak-ng):
    # window after window of "Japan, Japan, Japan, ..." with different repeat counts
    segs = [
        _seg("Japan, " * 8, 9.9, 13.2),
        _seg("Japan, " * 11, 15.5, 23.5),
        _seg("Japan, " * 9, 23.5, 30.0),
    ]
    out = list(convert_segments(segs, 0, 30_000))
    assert [s.text for s in out] == ["Japan, Japan,"]

"""Turns, parties and one party's words, derived from labelled words."""

from __future__ import annotations

from earmark.conversation import only, parties, utterances
from earmark.types import Segment, Transcript, Word


def _t(*segments: Segment) -> Transcript:
    return Transcript(" ".join(s.text for s in segments), segments, "en", 1.0, 10_000)


def _seg(i: int, words: list[Word], channel: str | None = None) -> Segment:
    return Segment(
        i,
        words[0].start_ms,
        words[-1].end_ms,
        " ".join(w.text for w in words),
        tuple(words),
        0.9,
        channel=channel,
    )


def test_speaker_turns_follow_the_words() -> None:
    words = [
        Word("hello", 0, 100, 0.9, speaker="A"),
        Word("there", 100, 200, 0.9, speaker="A"),
        Word("hi", 250, 300, 0.8, speaker="B"),
        Word("so", 400, 500, 0.9, speaker="A"),
    ]
    t = _t(_seg(0, words))
    turns = utterances(t)
    assert [(u.speaker, u.text) for u in turns] == [("A", "hello there"), ("B", "hi"), ("A", "so")]
    assert turns[0].start_ms == 0 and turns[0].end_ms == 200
    assert parties(t) == ("A", "B")
    assert only(t, "B").text == "hi" and only(t, "A").text == "hello there so"


def test_channel_turns_do_not_interleave_words_of_overlapping_speech() -> None:
    left = [Word(w, i * 100, i * 100 + 90, 0.9, channel="1") for i, w in enumerate(["a", "b", "c"])]
    right = [
        Word(w, 50 + i * 100, 140 + i * 100, 0.9, channel="2") for i, w in enumerate(["x", "y"])
    ]
    t = _t(_seg(0, left, "1"), _seg(1, right, "2"))
    assert [(u.channel, u.text) for u in utterances(t)] == [("1", "a b c"), ("2", "x y")]
    assert parties(t) == ("1", "2") and only(t, "2").text == "x y"


def test_a_plain_transcript_has_no_turns() -> None:
    t = _t(_seg(0, [Word("hi", 0, 10, 0.9)]))
    assert utterances(t) == () and parties(t) == ()

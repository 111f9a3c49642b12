"""Windowing of transcripts (fake, with and without word timings) and plain text."""

from __future__ import annotations

from earmark.tagging.base import TagOptions
from earmark.tagging.windows import make_windows, split_sentences
from earmark.types import Segment, Transcript, Word


def _transcript(
    n_segments: int, seconds_each: int = 5, words_each: int = 10, timed_words: bool = False
) -> Transcript:
    segs = []
    for i in range(n_segments):
        start = i * seconds_each * 1000
        texts = [f"w{i}_{k}" for k in range(words_each)]
        words: tuple[Word, ...] = ()
        if timed_words:
            step = seconds_each * 1000 // words_each
            words = tuple(
                Word(t, start + k * step, start + (k + 1) * step, 0.9) for k, t in enumerate(texts)
            )
        segs.append(Segment(i, start, start + seconds_each * 1000, " ".join(texts), words))
    return Transcript(
        " ".join(s.text for s in segs), tuple(segs), "en", 1.0, n_segments * seconds_each * 1000
    )


def test_windows_follow_segment_boundaries_and_duration() -> None:
    windows = make_windows(_transcript(24), TagOptions(window_ms=30_000, window_words=1000))
    assert [(w.start_ms, w.end_ms) for w in windows] == [
        (i * 30_000, (i + 1) * 30_000) for i in range(4)
    ]
    assert " ".join(w.text for w in windows) == _transcript(24).text


def test_word_limit_and_no_word_lost() -> None:
    tr = _transcript(30, words_each=10)
    windows = make_windows(tr, TagOptions(window_ms=10**9, window_words=45))
    assert all(len(w.text.split()) <= 45 for w in windows)
    assert " ".join(w.text for w in windows).split() == tr.text.split()
    assert all(w.start_ms is not None and w.end_ms is not None for w in windows)


def test_long_segment_is_split_with_word_times_or_interpolated() -> None:
    for timed in (True, False):
        tr = _transcript(1, seconds_each=60, words_each=300, timed_words=timed)
        windows = make_windows(tr, TagOptions(window_words=100))
        assert len(windows) == 3
        assert windows[0].start_ms == 0 and windows[-1].end_ms == 60_000
        ends = [w.end_ms for w in windows[:-1]]
        starts = [w.start_ms for w in windows[1:]]
        assert ends == starts
        assert [len(w.text.split()) for w in windows] == [100, 100, 100]


def test_token_limit_is_respected() -> None:
    def pieces(texts: list[str]) -> list[int]:  # every word costs 3 word pieces
        return [2 + 3 * len(t.split()) for t in texts]

    windows = make_windows(
        _transcript(10, words_each=20),
        TagOptions(window_words=1000, window_ms=10**9),
        pieces,
        max_tokens=64,
    )
    assert all(2 + 3 * len(w.text.split()) <= 64 for w in windows)
    assert sum(len(w.text.split()) for w in windows) == 200


def test_plain_text_by_sentences() -> None:
    assert [w.text for w in make_windows("Short text. Two sentences!")] == [
        "Short text. Two sentences!"
    ]
    text = " ".join(f"Sentence {i} has exactly six words." for i in range(40))
    windows = make_windows(text, TagOptions(window_words=30))
    assert all(w.start_ms is None and w.end_ms is None for w in windows)
    assert all(len(w.text.split()) <= 30 for w in windows)
    assert all(w.text.endswith(".") for w in windows)  # cut between sentences
    assert " ".join(w.text for w in windows) == text


def test_split_sentences() -> None:
    assert split_sentences(" Fears for pension. Unions say  they are 'disappointed'!  Why? ") == [
        "Fears for pension.",
        "Unions say  they are 'disappointed'!",
        "Why?",
    ]
    assert split_sentences("no punctuation at all") == ["no punctuation at all"]
    assert split_sentences("3.5 percent… then more") == ["3.5 percent…", "then more"]
    assert split_sentences("   ") == []


def test_tiny_tail_is_folded_and_empty_gives_nothing() -> None:
    windows = make_windows(" ".join(["word"] * 105), TagOptions(window_words=100))
    assert len(windows) == 1 and len(windows[0].text.split()) == 105
    assert make_windows("   ") == []
    assert make_windows(Transcript("", (), "en", 1.0, 0)) == []
    no_segments = make_windows(Transcript("some words here", (), "en", 1.0, 4000))
    assert [(w.start_ms, w.end_ms, w.text) for w in no_segments] == [(0, 4000, "some words here")]

"""SRT, WebVTT and text export: timestamp formats, caption splitting, escaping."""

from __future__ import annotations

import re

import pytest

from earmark.errors import InputError
from earmark.export import build_captions, format_timestamp, to_srt, to_text, to_vtt
from earmark.types import Segment, Transcript, Word

SRT_CUE = re.compile(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)\n")
VTT_CUE = re.compile(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)\n")


def words_of(text: str, start_ms: int, step_ms: int = 300) -> tuple[Word, ...]:
    return tuple(
        Word(w, start_ms + i * step_ms, start_ms + i * step_ms + 250, 0.9)
        for i, w in enumerate(text.split())
    )


def transcript(*segments: Segment) -> Transcript:
    return Transcript(
        text=" ".join(s.text for s in segments),
        segments=segments,
        language="en",
        language_probability=1.0,
        duration_ms=60_000,
    )


FIRST = "And so my fellow Americans, ask not what your country can do for you,"
SECOND = "ask what you can do for your country."
WITH_WORDS = transcript(
    Segment(0, 320, 8_000, FIRST, words_of(FIRST, 320)),
    Segment(1, 8_100, 10_900, SECOND, words_of(SECOND, 8_100)),
)
NO_WORDS = transcript(Segment(0, 1_000, 5_000, "one two three four five six seven eight nine ten"))


def parse_ms(stamp: str) -> int:
    h, m, rest = stamp.replace(",", ".").split(":")
    s, ms = rest.split(".")
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


@pytest.mark.parametrize(
    ("ms", "srt", "vtt"),
    [
        (0, "00:00:00,000", "00:00:00.000"),
        (1_234, "00:00:01,234", "00:00:01.234"),
        (3_723_004, "01:02:03,004", "01:02:03.004"),
        (360_000_001, "100:00:00,001", "100:00:00.001"),
        (-5, "00:00:00,000", "00:00:00.000"),
    ],
)
def test_timestamps(ms: int, srt: str, vtt: str) -> None:
    assert format_timestamp(ms) == srt
    assert format_timestamp(ms, ".") == vtt
    if ms >= 0:
        assert parse_ms(srt) == ms


def test_srt_one_caption_per_segment_by_default() -> None:
    srt = to_srt(WITH_WORDS)
    cues = SRT_CUE.findall(srt)
    assert cues == [
        ("1", "00:00:00,320", "00:00:08,000", FIRST),
        ("2", "00:00:08,100", "00:00:10,900", SECOND),
    ]
    assert srt == "".join(f"{i}\n{a} --> {b}\n{t}\n\n" for i, a, b, t in cues).removesuffix("\n")


def test_vtt_header_and_cues() -> None:
    vtt = to_vtt(WITH_WORDS)
    assert vtt.startswith("WEBVTT\n\n")
    assert VTT_CUE.findall(vtt) == [
        ("00:00:00.320", "00:00:08.000", FIRST),
        ("00:00:08.100", "00:00:10.900", SECOND),
    ]


@pytest.mark.parametrize("limit", [1, 10, 20, 32, 200])
def test_chars_per_caption_splits_on_words(limit: int) -> None:
    captions = build_captions(WITH_WORDS, limit)
    all_words = [w for s in WITH_WORDS.segments for w in s.words]

    # Nothing lost or reordered, no caption over the limit unless it is one long word.
    assert " ".join(c.text for c in captions).split() == [w.text for w in all_words]
    for c in captions:
        assert len(c.text) <= limit or " " not in c.text
    # Times come from the words, in order.
    assert captions[0].start_ms == all_words[0].start_ms
    assert captions[-1].end_ms == all_words[-1].end_ms
    starts = [c.start_ms for c in captions]
    assert starts == sorted(starts)
    assert all(c.start_ms <= c.end_ms for c in captions)


def test_captions_pack_greedily() -> None:
    captions = build_captions(WITH_WORDS, 20)
    assert captions[0].text == "And so my fellow"  # adding "Americans," would make 27
    assert (captions[0].start_ms, captions[0].end_ms) == (320, 320 + 3 * 300 + 250)


def test_srt_and_vtt_honour_chars_per_caption() -> None:
    srt_cues = SRT_CUE.findall(to_srt(WITH_WORDS, 32))
    vtt_cues = VTT_CUE.findall(to_vtt(WITH_WORDS, 32))
    assert len(srt_cues) == len(vtt_cues) > 2
    assert [int(c[0]) for c in srt_cues] == list(range(1, len(srt_cues) + 1))
    assert all(len(c[3]) <= 32 for c in srt_cues)


def test_a_long_pause_starts_a_new_caption() -> None:
    words = (Word("hello", 0, 400, 1.0), Word("again", 5_000, 5_400, 1.0))
    t = transcript(Segment(0, 0, 5_400, "hello again", words))
    assert [c.text for c in build_captions(t, 100)] == ["hello", "again"]


def test_segments_without_words_split_by_characters() -> None:
    captions = build_captions(NO_WORDS, 15)
    assert [c.text for c in captions] == [
        "one two three",
        "four five six",
        "seven eight",
        "nine ten",
    ]
    assert captions[0].start_ms == 1_000 and captions[-1].end_ms == 5_000
    ends = [c.end_ms for c in captions]
    assert [c.start_ms for c in captions[1:]] == ends[:-1]  # contiguous, time shared out
    assert ends == sorted(ends)


def test_vtt_escapes_markup_and_keeps_cues_on_one_line() -> None:
    t = transcript(Segment(0, 0, 1_000, "a <b> & c --> d\n\nnext"))
    vtt = to_vtt(t)
    assert "a &lt;b&gt; &amp; c --&gt; d next" in vtt
    assert "a <b> & c --> d next" in to_srt(t)


def test_empty_segments_are_skipped_and_empty_transcripts_export() -> None:
    t = transcript(Segment(0, 0, 500, "  "), Segment(1, 600, 900, "hi"))
    assert SRT_CUE.findall(to_srt(t)) == [("1", "00:00:00,600", "00:00:00,900", "hi")]
    empty = transcript()
    assert to_srt(empty) == ""
    assert to_vtt(empty) == "WEBVTT\n"
    assert to_text(empty) == ""


def test_bad_chars_per_caption() -> None:
    with pytest.raises(InputError, match="chars_per_caption"):
        to_srt(WITH_WORDS, 0)


def test_to_text() -> None:
    assert to_text(WITH_WORDS) == f"{FIRST}\n{SECOND}"
    no_segments = Transcript("just text ", (), "en", 1.0, 0)
    assert to_text(no_segments) == "just text"

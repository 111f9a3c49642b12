"""Logic around the model, with a fake WhisperModel: conversion, offsets, options, devices."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import earmark.asr.faster_whisper as fw_engine
from earmark.asr import ASROptions, EngineOptions, FasterWhisperEngine
from earmark.asr.faster_whisper import (
    convert_segments,
    select_compute_type,
    select_device,
    select_threads,
)
from earmark.errors import EmptyMediaError, InputError, ModelError
from earmark.types import AudioData


@dataclass
class FakeWord:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class FakeSegment:
    start: float
    end: float
    text: str
    words: list[FakeWord] | None = None
    avg_logprob: float = -0.25


@dataclass
class FakeInfo:
    language: str = "en"
    language_probability: float = 0.875


@dataclass
class FakeWhisper:
    """Records what it was asked, answers with canned segments (times relative to its input)."""

    segments: list[FakeSegment]
    multilingual: bool = True
    calls: list[dict[str, Any]] = field(default_factory=list)
    model: Any = None

    def __post_init__(self) -> None:
        self.model = type("CT2", (), {"is_multilingual": self.multilingual})()

    def transcribe(self, audio: Any, **kwargs: Any) -> tuple[Iterator[FakeSegment], FakeInfo]:
        self.calls.append({"samples": len(audio), **kwargs})
        return iter(self.segments), FakeInfo()


def fake_engine(
    monkeypatch: pytest.MonkeyPatch, segments: list[FakeSegment], multilingual: bool = True
) -> tuple[FasterWhisperEngine, FakeWhisper]:
    fake = FakeWhisper(segments, multilingual)
    monkeypatch.setattr(fw_engine, "_load", lambda path, engine, workers: fake)
    engine = FasterWhisperEngine(EngineOptions(model="tiny.en", device="cpu", threads=1))
    return engine, fake


SEGMENTS = [
    FakeSegment(
        0.0,
        2.5,
        " Hello there. ",
        [FakeWord(0.0, 0.4994, " Hello", 0.9), FakeWord(0.5, 2.5006, " there.", 0.7)],
    ),
    FakeSegment(2.5, 2.6, "  ", []),
    FakeSegment(3.0, 4.0, " No words here.", None, avg_logprob=-0.5),
]


def test_convert_segments_times_confidence_and_text() -> None:
    out = list(convert_segments(iter(SEGMENTS), offset_ms=1_000, end_ms=10_000))

    assert [s.id for s in out] == [0, 1]  # the empty segment is dropped
    first, second = out
    assert (first.start_ms, first.end_ms, first.text) == (1_000, 3_501, "Hello there.")
    assert [(w.text, w.start_ms, w.end_ms) for w in first.words] == [
        ("Hello", 1_000, 1_499),
        ("there.", 1_500, 3_501),
    ]
    assert first.words[0].confidence == pytest.approx(0.9)
    assert first.confidence == pytest.approx(0.8)
    assert (second.start_ms, second.end_ms, second.words) == (4_000, 5_000, ())
    assert second.confidence == pytest.approx(math.exp(-0.5))


def test_convert_segments_clamps_to_the_audio_and_keeps_order() -> None:
    messy = [
        FakeSegment(1.0, 2.0, "a b", [FakeWord(1.2, 1.1, "a", 0.5), FakeWord(0.9, 1.5, "b", 0.5)]),
        FakeSegment(0.5, 9.0, "c", [FakeWord(0.5, 9.0, "c", 0.5)]),
    ]
    out = list(convert_segments(messy, offset_ms=0, end_ms=3_000))
    words = [w for s in out for w in s.words]
    assert [(w.start_ms, w.end_ms) for w in words] == [
        (1_200, 1_200),
        (1_200, 1_500),
        (1_200, 3_000),
    ]
    assert out[1].start_ms >= out[0].start_ms
    assert all(s.end_ms <= 3_000 for s in out)


def test_convert_segments_is_lazy() -> None:
    def source() -> Iterator[FakeSegment]:
        yield SEGMENTS[0]
        raise RuntimeError("the model is still decoding the next window")

    stream = convert_segments(source(), 0, 10_000)
    assert next(stream).text == "Hello there."
    with pytest.raises(RuntimeError, match="still decoding"):
        next(stream)


def test_stream_passes_options_and_offsets(monkeypatch: pytest.MonkeyPatch) -> None:
    engine, fake = fake_engine(monkeypatch, SEGMENTS)
    audio = AudioData(np.zeros(16_000 * 10, dtype=np.float32), source="x.wav")
    opts = ASROptions(
        model="tiny.en",
        language="EN_us",
        vad=True,
        beam_size=2,
        word_timestamps=False,
        initial_prompt="Kennedy",
        start_ms=2_000,
        end_ms=6_000,
    )

    info, segments = engine.stream(audio, opts)
    out = list(segments)

    call = fake.calls[0]
    assert call["samples"] == 16_000 * 4
    assert call["language"] == "en"
    assert (call["vad_filter"], call["beam_size"], call["word_timestamps"]) == (True, 2, False)
    assert call["initial_prompt"] == "Kennedy"
    # no sampling fallback (the same audio gives the same text); one language per file
    assert (call["temperature"], call["multilingual"], call["task"]) == (0.0, False, "transcribe")
    assert call["condition_on_previous_text"] is True
    assert (info.language, info.language_probability) == ("en", 0.875)
    assert (info.duration_ms, info.model) == (10_000, "tiny.en")
    assert out[0].start_ms == 2_000 and out[0].words[-1].end_ms == 4_501
    assert out[1].end_ms == 6_000  # clamped to the stretch


def test_stream_on_a_decoded_stretch_does_not_slice_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    engine, fake = fake_engine(monkeypatch, SEGMENTS)
    stretch = AudioData(np.zeros(16_000 * 4, dtype=np.float32), offset_ms=2_000)
    _, segments = engine.stream(stretch, ASROptions(start_ms=2_000, end_ms=6_000))
    out = list(segments)
    assert fake.calls[0]["samples"] == 16_000 * 4
    assert out[0].start_ms == 2_000


def test_stream_defaults_detect_language(monkeypatch: pytest.MonkeyPatch) -> None:
    engine, fake = fake_engine(monkeypatch, SEGMENTS)
    engine.stream(AudioData(np.zeros(16_000, dtype=np.float32)), ASROptions(language="auto"))
    assert fake.calls[0]["language"] is None
    assert fake.calls[0]["initial_prompt"] is None


def test_stream_rejects_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    engine, _ = fake_engine(monkeypatch, SEGMENTS, multilingual=False)
    audio = AudioData(np.zeros(16_000, dtype=np.float32))
    with pytest.raises(InputError, match="English-only"):
        engine.stream(audio, ASROptions(language="fr"))
    with pytest.raises(InputError, match="beam_size"):
        engine.stream(audio, ASROptions(beam_size=0))
    with pytest.raises(InputError, match="16000 Hz"):
        engine.stream(AudioData(np.zeros(8_000, dtype=np.float32), sample_rate=8_000), ASROptions())
    with pytest.raises(EmptyMediaError):
        engine.stream(AudioData(np.zeros(0, dtype=np.float32)), ASROptions())
    with pytest.raises(InputError, match="end_ms"):
        engine.stream(audio, ASROptions(start_ms=500, end_ms=100))


def test_device_selection_with_a_fake_gpu_count() -> None:
    assert select_device("auto", lambda: 1) == "cuda"
    assert select_device("auto", lambda: 0) == "cpu"
    assert select_device("cpu", lambda: 4) == "cpu"
    assert select_device("cuda", lambda: 2) == "cuda"
    with pytest.raises(ModelError, match="no CUDA device"):
        select_device("cuda", lambda: 0)
    with pytest.raises(ModelError, match="unknown ASR device"):
        select_device("tpu", lambda: 0)


def test_compute_type_and_threads() -> None:
    assert select_compute_type("auto", "cpu") == "int8"
    assert select_compute_type("auto", "cuda") == "float16"
    assert select_compute_type("int8_float16", "cuda") == "int8_float16"
    assert select_threads(3) == 3
    assert select_threads(0) >= 1
    with pytest.raises(ModelError):
        select_threads(-1)


def test_engine_pool_loads_once_per_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from earmark.asr import EnginePool

    loads: list[str] = []
    monkeypatch.setattr(
        fw_engine, "_load", lambda path, engine, workers: loads.append(path) or FakeWhisper([])
    )
    pool = EnginePool()
    a = pool.get(EngineOptions(model="tiny.en", device="cpu", threads=1))
    b = pool.get(
        EngineOptions(model="whisper-tiny.en", device="cpu", threads=1, compute_type="int8")
    )
    c = pool.get(EngineOptions(model="tiny.en", device="cpu", threads=2))
    assert a is b and a is not c
    assert len(loads) == 2
    assert EnginePool().get(EngineOptions(model="tiny.en", device="cpu", threads=1)) is not a


def test_engine_kinds_register_by_name() -> None:
    from earmark.asr import EnginePool, engine_names, register_engine
    from earmark.errors import InputError

    built: list[EngineOptions] = []

    class Fake(FasterWhisperEngine):
        def __init__(self, options: EngineOptions) -> None:
            built.append(options)

    register_engine("fake-for-test", Fake)
    assert "fake-for-test" in engine_names()
    engine = EnginePool(kind="fake-for-test").get(EngineOptions(model="tiny.en", device="cpu"))
    assert isinstance(engine, Fake) and built[0].threads >= 1
    with pytest.raises(InputError, match="unknown ASR engine"):
        EnginePool(kind="nope").get(EngineOptions(device="cpu"))


def test_model_load_failure_is_a_model_error(tmp_path: Any) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load ASR model"):
        FasterWhisperEngine(EngineOptions(model=str(tmp_path), device="cpu", threads=1))


def test_multilingual_segments_carry_the_language_of_their_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """faster-whisper detects each window's language before decoding it: the engine taps
    that detection and puts it on the segments decoded next."""

    class Detecting(FakeWhisper):
        def transcribe(self, audio: Any, **kwargs: Any) -> tuple[Iterator[FakeSegment], FakeInfo]:
            self.calls.append(kwargs)

            def windows() -> Iterator[FakeSegment]:
                for language, seg in zip(("en", "de"), self.segments, strict=True):
                    self.model.detect_language(language)  # as generate_segments does
                    yield seg

            return windows(), FakeInfo()

    fake = Detecting([SEGMENTS[0], SEGMENTS[2]])
    fake.model = type(
        "CT2",
        (),
        {"is_multilingual": True, "detect_language": lambda self, x: [[(f"<|{x}|>", 0.9)]]},
    )()
    monkeypatch.setattr(fw_engine, "_load", lambda path, engine, workers: fake)
    engine = FasterWhisperEngine(EngineOptions(model="base", device="cpu", threads=1))
    audio = AudioData(np.zeros(16_000 * 8, dtype=np.float32))
    _, segments = engine.stream(audio, ASROptions(language=None, multilingual=True))
    out = list(segments)
    assert [s.language for s in out] == ["en", "de"]
    call = fake.calls[0]
    assert call["multilingual"] is True and call["condition_on_previous_text"] is False


def test_a_looping_segment_is_decoded_again_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = FakeSegment(0.0, 6.0, " a man, " * 8, None)
    clean = FakeSegment(0.0, 6.0, " My father taught me to fish.", None)

    class Redecoding(FakeWhisper):
        def transcribe(self, audio: Any, **kwargs: Any) -> tuple[Iterator[FakeSegment], FakeInfo]:
            self.calls.append({"samples": len(audio), **kwargs})
            return iter([loop] if len(self.calls) == 1 else [clean]), FakeInfo()

    fake = Redecoding([])
    monkeypatch.setattr(fw_engine, "_load", lambda path, engine, workers: fake)
    engine = FasterWhisperEngine(EngineOptions(model="base", device="cpu", threads=1))
    audio = AudioData(np.zeros(16_000 * 8, dtype=np.float32))
    _, segments = engine.stream(audio, ASROptions(language="es"))
    (out,) = list(segments)
    assert out.text == "My father taught me to fish."
    again = fake.calls[1]
    assert again["condition_on_previous_text"] is False and again["temperature"] == 0.0
    assert again["beam_size"] == 5 and again["samples"] == 16_000 * 6

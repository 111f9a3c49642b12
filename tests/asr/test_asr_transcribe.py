"""The real tiny.en model end to end: accuracy, word times, streaming, stretches, VAD."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from earmark.asr import ASREngine, ASROptions, FasterWhisperEngine
from earmark.asr.wer import word_error_rate
from earmark.audio import decode_audio
from earmark.errors import EmptyMediaError, InputError
from earmark.types import AudioData, Segment, Transcript

TINY = ASROptions(model="tiny.en")


def check_times(t: Transcript, lo: int, hi: int) -> None:
    """Integer ms, in order, inside [lo, hi]."""
    assert t.segments
    prev = lo
    for seg in t.segments:
        assert isinstance(seg.start_ms, int) and isinstance(seg.end_ms, int)
        assert lo <= seg.start_ms <= seg.end_ms <= hi
        assert seg.text == seg.text.strip() and seg.text
        for w in seg.words:
            assert isinstance(w.start_ms, int) and isinstance(w.end_ms, int)
            assert prev <= w.start_ms <= w.end_ms <= hi, (prev, w)
            assert seg.start_ms <= w.start_ms and w.end_ms <= seg.end_ms
            assert 0.0 < w.confidence <= 1.0
            assert w.text == w.text.strip() and w.text
            prev = w.start_ms


def test_jfk_with_tiny_en(
    tiny_engine: ASREngine, jfk_audio: AudioData, jfk_reference: str, jfk_flac: Path
) -> None:
    arrivals: list[Segment] = []
    t = tiny_engine.transcribe(jfk_audio, TINY, on_segment=arrivals.append)

    assert tuple(arrivals) == t.segments
    assert word_error_rate(jfk_reference, t.text) <= 0.10, t.text
    assert t.language == "en" and t.language_probability == 1.0
    assert t.model == "tiny.en"
    assert t.source == str(jfk_flac)
    assert t.duration_ms == 11_000
    check_times(t, 0, t.duration_ms)
    assert len(t.words) >= 20
    assert 0.5 < t.confidence <= 1.0
    assert [s.id for s in t.segments] == list(range(len(t.segments)))


def test_segments_stream_as_they_decode(
    tiny_engine: ASREngine, jfk_audio: AudioData, shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """About 39 s of speech is two 30 s windows: the first segment arrives after one."""
    libri = shared / "data" / "librispeech_test_other_subset" / "audio"
    parts = [decode_audio(libri / f"1688-142285-000{i}.flac").samples for i in (0, 1)]
    long = AudioData(np.concatenate([jfk_audio.samples, *parts]))
    assert isinstance(tiny_engine, FasterWhisperEngine)
    spy = _CountingModel(tiny_engine._model.model)
    monkeypatch.setattr(tiny_engine._model, "model", spy)

    info, segments = tiny_engine.stream(long, TINY)
    assert spy.encodes == 0  # nothing decoded yet
    assert info.duration_ms == long.duration_ms

    first = next(segments)
    encodes_at_first = spy.encodes
    rest = list(segments)

    assert encodes_at_first >= 1
    assert spy.encodes > encodes_at_first
    assert first.id == 0 and rest[-1].end_ms > 30_000


class _CountingModel:
    """Delegates to the CTranslate2 model, counting encoder passes (one per window)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.encodes = 0

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        self.encodes += 1
        return self._inner.encode(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_stretch_keeps_absolute_times(
    tiny_engine: ASREngine, jfk_audio: AudioData, jfk_flac: Path
) -> None:
    opts = ASROptions(model="tiny.en", start_ms=3_000, end_ms=8_000)
    sliced_by_engine = tiny_engine.transcribe(jfk_audio, opts)
    decoded_stretch = decode_audio(jfk_flac, start_ms=3_000, end_ms=8_000)
    sliced_by_decoder = tiny_engine.transcribe(decoded_stretch, opts)

    for t in (sliced_by_engine, sliced_by_decoder):
        assert "ask not what your country" in t.text.lower()
        assert "fellow americans" not in t.text.lower()
        check_times(t, 3_000, 8_000)
    assert sliced_by_engine.text == sliced_by_decoder.text
    assert sliced_by_engine.segments == sliced_by_decoder.segments


def test_vad_and_no_word_timestamps(
    tiny_engine: ASREngine, jfk_audio: AudioData, jfk_reference: str
) -> None:
    t = tiny_engine.transcribe(
        jfk_audio, ASROptions(model="tiny.en", vad=True, word_timestamps=False, beam_size=1)
    )
    assert word_error_rate(jfk_reference, t.text) <= 0.10, t.text
    assert t.words == ()
    assert all(0.0 < s.confidence <= 1.0 for s in t.segments)
    check_times(t, 0, 11_000)


def test_english_only_model_refuses_other_languages(
    tiny_engine: ASREngine, jfk_audio: AudioData
) -> None:
    with pytest.raises(InputError, match="English-only"):
        tiny_engine.stream(jfk_audio, ASROptions(model="tiny.en", language="de"))
    with pytest.raises(InputError, match="unknown language"):
        tiny_engine.stream(jfk_audio, ASROptions(model="tiny.en", language="klingon"))


def test_stretch_outside_the_audio(tiny_engine: ASREngine, jfk_audio: AudioData) -> None:
    with pytest.raises(EmptyMediaError, match="no audio to transcribe"):
        tiny_engine.stream(jfk_audio, ASROptions(model="tiny.en", start_ms=12_000))


def test_one_engine_shared_by_threads(
    tiny_engine: ASREngine, jfk_audio: AudioData, jfk_reference: str
) -> None:
    opts = ASROptions(model="tiny.en", beam_size=1)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(tiny_engine.transcribe, jfk_audio, opts) for _ in range(3)]
        texts = [f.result(timeout=120).text for f in futures]
    assert len(set(texts)) == 1
    assert word_error_rate(jfk_reference, texts[0]) <= 0.10

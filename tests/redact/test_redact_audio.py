"""Redacted audio: the span beeped or silent, everything else untouched, same length."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from earmark.errors import InputError
from earmark.redact import PiiSpan, encode_audio, redact_audio
from earmark.redact.audio import BEEP_HZ, BEEP_LEVEL
from earmark.types import AudioData

RATE = 16_000


def noise(seconds: float = 2.0, offset_ms: int = 0) -> AudioData:
    rng = np.random.default_rng(0)
    samples = (rng.uniform(-0.5, 0.5, int(seconds * RATE))).astype(np.float32)
    return AudioData(samples=samples, offset_ms=offset_ms)


SPAN = PiiSpan("phone_number", 500, 1000, "five five five")
S, E = 500 * RATE // 1000, 1000 * RATE // 1000
FADE = 5 * RATE // 1000


@pytest.mark.parametrize("mode", ["beep", "silence"])
def test_outside_untouched_and_same_length(mode: str) -> None:
    audio = noise()
    out = redact_audio(audio, [SPAN], mode)  # type: ignore[arg-type]
    assert len(out.samples) == len(audio.samples)
    assert out.samples.dtype == np.float32
    np.testing.assert_array_equal(out.samples[:S], audio.samples[:S])
    np.testing.assert_array_equal(out.samples[E:], audio.samples[E:])
    assert audio.samples[S + 100] != out.samples[S + 100]  # the input is not changed in place


def test_silence_is_silent_inside() -> None:
    out = redact_audio(noise(), [SPAN], "silence")
    assert np.all(out.samples[S + FADE : E - FADE] == 0.0)
    # the fade blends: the edges sit between the original and zero
    assert 0 < abs(out.samples[S + FADE // 2]) < 0.5


def test_beep_is_a_1khz_tone() -> None:
    out = redact_audio(noise(), [SPAN])
    inner = out.samples[S + FADE : E - FADE].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(inner))
    freqs = np.fft.rfftfreq(len(inner), 1 / RATE)
    assert abs(freqs[np.argmax(spectrum)] - BEEP_HZ) < 5
    assert np.max(np.abs(inner)) == pytest.approx(BEEP_LEVEL, abs=1e-3)


def test_offset_and_clipping_to_the_audio() -> None:
    audio = noise(1.0, offset_ms=10_000)  # samples cover 10.0 s .. 11.0 s of the source
    out = redact_audio(audio, [PiiSpan("x", 10_500, 12_000, "")], "silence")
    half = RATE // 2
    np.testing.assert_array_equal(out.samples[:half], audio.samples[:half])
    assert np.all(out.samples[half + FADE : len(audio.samples) - FADE] == 0.0)
    # a span outside the audio changes nothing
    same = redact_audio(audio, [PiiSpan("x", 0, 5_000, "")])
    np.testing.assert_array_equal(same.samples, audio.samples)


def test_bad_mode() -> None:
    with pytest.raises(InputError):
        redact_audio(noise(), [SPAN], "bleep")  # type: ignore[arg-type]


def test_encode_wav_round_trip() -> None:
    audio = redact_audio(noise(), [SPAN], "silence")
    body = encode_audio(audio, "wav")
    with wave.open(io.BytesIO(body)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    assert len(frames) == len(audio.samples)
    assert np.all(frames[S + FADE : E - FADE] == 0)


def test_encode_mp3_decodes_back() -> None:
    body = encode_audio(redact_audio(noise(), [SPAN]), "mp3")
    assert body[:3] == b"ID3" or body[0] == 0xFF
    with av.open(io.BytesIO(body)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name in ("mp3", "mp3float")
        total = sum(frame.samples for frame in container.decode(stream))
    assert abs(total - 2 * RATE) < 2 * 1152


def test_encode_bad_format() -> None:
    with pytest.raises(InputError):
        encode_audio(noise(), "ogg")  # type: ignore[arg-type]

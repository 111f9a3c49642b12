"""Redacted audio: PII spans beeped (1 kHz tone, AssemblyAI's default) or silenced.

The spans' samples are replaced sample-accurately; each edge cross-fades over
``fade_ms`` *inside* the span, so every sample outside a span is left exactly as it was
and the result has the input's length. :func:`encode_audio` writes wav (16-bit PCM, the
standard library) or mp3 (PyAV's libmp3lame) for ``redact_pii_audio_quality``.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from earmark.errors import InputError
from earmark.types import AudioData

__all__ = ["AUDIO_CONTENT_TYPES", "BEEP_HZ", "encode_audio", "redact_audio"]

BEEP_HZ = 1000.0
BEEP_LEVEL = 0.3
"""Peak amplitude of the beep in [-1, 1] (about -10 dBFS)."""
AUDIO_CONTENT_TYPES: dict[str, str] = {"mp3": "audio/mpeg", "wav": "audio/wav"}


class _Span(Protocol):
    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int: ...


def redact_audio(
    audio: AudioData,
    spans: Sequence[_Span],
    mode: Literal["silence", "beep"] = "beep",
    fade_ms: float = 5.0,
) -> AudioData:
    """A copy of ``audio`` with every span (times in the source's ms, as in transcripts)
    replaced by a beep or silence. ``audio.offset_ms`` is honoured."""
    if mode not in ("silence", "beep"):
        raise InputError(f"audio redaction method must be 'beep' or 'silence', not {mode!r}")
    out = np.array(audio.samples, dtype=np.float32, copy=True)
    n = len(out)
    rate = audio.sample_rate
    fade = max(0, round(fade_ms * rate / 1000))
    for span in spans:
        s = max(0, round((span.start_ms - audio.offset_ms) * rate / 1000))
        e = min(n, round((span.end_ms - audio.offset_ms) * rate / 1000))
        if e <= s:
            continue
        length = e - s
        if mode == "beep":
            t = np.arange(length, dtype=np.float64) / rate
            fill = (BEEP_LEVEL * np.sin(2 * np.pi * BEEP_HZ * t)).astype(np.float32)
        else:
            fill = np.zeros(length, dtype=np.float32)
        ramp = min(fade, length // 2)
        gain = np.ones(length, dtype=np.float32)
        if ramp > 0:
            up = np.linspace(0.0, 1.0, ramp + 2, dtype=np.float32)[1:-1]
            gain[:ramp] = up
            gain[length - ramp :] = up[::-1]
        original = out[s:e]
        out[s:e] = original * (1.0 - gain) + fill * gain
    return AudioData(samples=out, sample_rate=rate, source=audio.source, offset_ms=audio.offset_ms)


def _pcm16(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.int16]:
    clipped = np.clip(samples, -1.0, 1.0)
    return np.round(clipped * 32767.0).astype(np.int16)


def encode_audio(audio: AudioData, fmt: Literal["mp3", "wav"] = "mp3") -> bytes:
    """The audio as a mono file: ``wav`` (16-bit PCM) or ``mp3`` (64 kbit/s)."""
    if fmt == "wav":
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(audio.sample_rate)
            w.writeframes(_pcm16(audio.samples).tobytes())
        return buf.getvalue()
    if fmt == "mp3":
        return _mp3(audio)
    raise InputError(f"redact_pii_audio_quality must be 'mp3' or 'wav', not {fmt!r}")


def _mp3(audio: AudioData) -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=audio.sample_rate, layout="mono")
        stream.bit_rate = 64_000
        pcm = _pcm16(audio.samples)
        step = 1152 * 8
        for pos in range(0, len(pcm), step):
            chunk = pcm[pos : pos + step].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
            frame.sample_rate = audio.sample_rate
            frame.pts = pos
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()

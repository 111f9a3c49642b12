"""Decode any audio or video that ffmpeg reads (through PyAV) to mono 16 kHz float32.

Containers with video (mp4, mkv, mov, webm...) are decoded by their first audio track;
other streams are not even demuxed. Samples go straight into one growing float32 array,
so a long recording costs about 64 kB of memory per second of audio (230 MB per hour),
never a list of frames beside it.

Every failure is an :class:`earmark.errors.MediaError` that names the file:

- :class:`~earmark.errors.MediaNotFoundError`: no such file;
- :class:`~earmark.errors.NotMediaError`: text, random bytes, a directory, data that
  ffmpeg cannot decode;
- :class:`~earmark.errors.NoAudioStreamError`: media without an audio track;
- :class:`~earmark.errors.EmptyMediaError`: zero bytes, or nothing decodes to samples.

A truncated file decodes as far as ffmpeg can read it (a warning is logged).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from earmark.errors import (
    EmptyMediaError,
    InputError,
    MediaError,
    MediaNotFoundError,
    NoAudioStreamError,
    NotMediaError,
)
from earmark.types import SAMPLE_RATE, AudioData

__all__ = ["count_channels", "decode_audio", "probe_duration_ms"]

log = logging.getLogger(__name__)

Source = str | Path | bytes

_SAMPLES_PER_MS = SAMPLE_RATE // 1000
_MIN_CAPACITY = SAMPLE_RATE * 30
_MAX_INITIAL_CAPACITY = SAMPLE_RATE * 3600  # trust a declared duration up to an hour, then grow
_TEXT_FORMATS = frozenset({"tty"})  # ffmpeg reads *.txt as "ANSI art" video


@dataclass
class _Stats:
    """What happened while decoding: bad packets, where it stopped, why."""

    bad_packets: int = 0
    produced: int = 0  # output samples produced from the start of the source
    damage: str = ""


@dataclass(frozen=True)
class _Window:
    """The stretch to keep, in output samples; ``end`` is ``None`` for "to the end"."""

    start: int = 0
    end: int | None = None


def decode_audio(
    source: Source,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
    channel: int | None = None,
) -> AudioData:
    """Decode ``source`` (a path, or the file's bytes) to mono 16 kHz float32 samples.

    ``start_ms``/``end_ms`` keep only that stretch; the result's ``offset_ms`` says where its
    first sample sits in the source. ``channel`` (0-based) keeps that one channel instead of
    the down-mix (see :func:`count_channels`). Raises :class:`earmark.errors.MediaError`
    subclasses (see the module docstring) and :class:`earmark.errors.InputError` for a bad
    range or channel.
    """
    window = _window(start_ms, end_ms)
    name = _describe(source)
    with _open(source, name) as container:
        stream = _audio_stream(container, name)
        if channel is not None and not 0 <= channel < stream.codec_context.channels:
            raise InputError(
                f"{name}: has {stream.codec_context.channels} audio channel(s), "
                f"no channel {channel + 1}"
            )
        samples, stats = _decode_stream(container, stream, window, channel)
    if samples.size == 0:
        raise _nothing_decoded(name, stats, start_ms, end_ms)
    if stats.damage:
        log.warning(
            "%s: decoded %.1f s, then stopped at damaged or truncated data (%s)",
            name,
            stats.produced / SAMPLE_RATE,
            stats.damage,
        )
    return AudioData(samples=samples, source=name, offset_ms=start_ms or 0)


def count_channels(source: Source) -> int:
    """How many channels the first audio track has (raises like :func:`decode_audio`)."""
    name = _describe(source)
    with _open(source, name) as container:
        return int(_audio_stream(container, name).codec_context.channels or 1)


def probe_duration_ms(source: str | Path) -> int | None:
    """The duration that the container declares, in ms, without decoding (``None`` if unknown).

    Raises the same errors as :func:`decode_audio` for missing or unreadable files.
    """
    name = _describe(source)
    with _open(source, name) as container:
        stream = _audio_stream(container, name)
        if stream.duration is not None and stream.time_base is not None:
            return round(float(stream.duration * stream.time_base) * 1000)
        if container.duration is not None:
            return round(int(container.duration) / 1000)
    return None


def _window(start_ms: int | None, end_ms: int | None) -> _Window:
    if start_ms is not None and start_ms < 0:
        raise InputError(f"start_ms must be >= 0, got {start_ms}")
    if end_ms is not None and end_ms <= (start_ms or 0):
        raise InputError(f"end_ms ({end_ms}) must be greater than start_ms ({start_ms or 0})")
    start = (start_ms or 0) * _SAMPLES_PER_MS
    end = None if end_ms is None else end_ms * _SAMPLES_PER_MS
    return _Window(start, end)


def _describe(source: Source) -> str:
    if isinstance(source, bytes | bytearray | memoryview):
        return f"uploaded media ({len(source)} bytes)"
    return str(source)


def _open(source: Source, name: str) -> Any:
    """Open a container, mapping every way that can fail to a clear MediaError."""
    target: str | io.BytesIO
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise EmptyMediaError(f"{name}: the media is empty (0 bytes)")
        target = io.BytesIO(source)
    else:
        path = Path(source)
        _check_file(path)
        target = str(path)
    try:
        return av.open(target, mode="r", metadata_errors="ignore")
    except av.error.PermissionError as exc:
        raise MediaError(f"{name}: cannot read the file (permission denied)") from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc)
        raise NotMediaError(
            f"{name}: not an audio or video file ffmpeg can read ({detail}); "
            "it may be corrupt or truncated"
        ) from exc


def _check_file(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise MediaNotFoundError(f"{path}: no such file") from exc
    except OSError as exc:
        raise MediaError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if path.is_dir():
        raise NotMediaError(f"{path}: is a directory, not an audio or video file")
    if not path.is_file():
        raise NotMediaError(f"{path}: not a regular file (a pipe or device cannot be decoded)")
    if st.st_size == 0:
        raise EmptyMediaError(f"{path}: the file is empty (0 bytes)")


def _audio_stream(container: Any, name: str) -> Any:
    streams = container.streams
    if streams.audio:
        return streams.audio[0]
    if container.format.name in _TEXT_FORMATS or not streams.video:
        raise NotMediaError(f"{name}: not an audio or video file ffmpeg can read")
    kinds = ", ".join(sorted({s.type for s in streams}))
    raise NoAudioStreamError(f"{name}: has no audio track (it holds only {kinds})")


def _decode_stream(
    container: Any, stream: Any, window: _Window, channel: int | None = None
) -> tuple[npt.NDArray[np.float32], _Stats]:
    """Decode, resample and keep ``window`` (of one ``channel``, or the down-mix)."""
    buf = _Buffer(_estimate_samples(container, stream, window))
    pos = 0  # output samples produced so far (absolute position in the source)
    resampler = _Resampler(channel)
    stats = _Stats()
    try:
        for frame in _frames(container, stream, stats):
            if frame is None:
                stats.bad_packets += 1
                continue
            for chunk in resampler.push(frame):
                pos = _keep(buf, chunk, pos, window)
            if window.end is not None and pos >= window.end:
                break
        else:
            for chunk in resampler.flush():
                pos = _keep(buf, chunk, pos, window)
    except (av.error.FFmpegError, ValueError) as exc:  # frames the resampler cannot take
        stats.damage = getattr(exc, "strerror", None) or str(exc)
    stats.produced = pos
    return buf.finish(), stats


def _keep(buf: _Buffer, chunk: npt.NDArray[np.float32], pos: int, window: _Window) -> int:
    n = int(chunk.shape[0])
    lo = max(0, window.start - pos)
    hi = n if window.end is None else min(n, window.end - pos)
    if hi > lo:
        buf.append(chunk[lo:hi])
    return pos + n


def _frames(container: Any, stream: Any, stats: _Stats) -> Iterator[Any]:
    """Decoded frames of ``stream``; ``None`` marks a packet that failed to decode."""
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                yield None
                continue
            yield from frames
    except (av.error.FFmpegError, OSError) as exc:
        # A truncated or damaged file: keep what decoded so far.
        stats.damage = getattr(exc, "strerror", None) or str(exc)


class _Resampler:
    """Groups frames (an AudioFifo) and resamples them to mono 16 kHz in large chunks.

    Output is s16 scaled to float, exactly as Whisper's own ``ffmpeg -ac 1 -f s16le``
    preprocessing (ffmpeg normalises the down-mix for integer output only). The resampler
    is rebuilt if the input format changes mid-stream.
    """

    _GROUP = 256 * 1024  # input samples per resample call: fewer, bigger calls are faster

    def __init__(self, channel: int | None = None) -> None:
        self._channel = channel
        self._r: Any = None
        self._fifo: Any = None
        self._key: tuple[str, str, int] | None = None

    def push(self, frame: Any) -> Iterator[npt.NDArray[np.float32]]:
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        if key != self._key:
            yield from self.flush()
            if self._channel is None:
                self._r = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            else:  # keep the layout, planar: one row per channel
                self._r = av.AudioResampler(
                    format="s16p", layout=frame.layout.name, rate=SAMPLE_RATE
                )
            self._fifo = av.AudioFifo()
            self._key = key
        frame.pts = None  # timestamps are not needed, and gaps would make PyAV refuse
        self._fifo.write(frame)
        if self._fifo.samples >= self._GROUP:
            yield from self._resample(self._fifo.read())

    def flush(self) -> Iterator[npt.NDArray[np.float32]]:
        if self._r is None:
            return
        if self._fifo.samples:
            yield from self._resample(self._fifo.read())
        yield from self._resample(None)
        self._r = self._fifo = self._key = None

    def _resample(self, frame: Any) -> Iterator[npt.NDArray[np.float32]]:
        for out in self._r.resample(frame):
            pcm = out.to_ndarray()
            pcm = pcm[self._channel] if self._channel is not None else pcm.reshape(-1)
            yield np.multiply(pcm, 1.0 / 32768.0, dtype=np.float32)


class _Buffer:
    """A float32 array that grows in place (amortised), then shrinks to fit."""

    def __init__(self, capacity: int) -> None:
        self._data = np.empty(max(capacity, 1), dtype=np.float32)
        self._n = 0

    def append(self, chunk: npt.NDArray[np.float32]) -> None:
        end = self._n + chunk.shape[0]
        if end > self._data.shape[0]:
            self._data.resize(max(end, int(self._data.shape[0] * 1.5)), refcheck=False)
        self._data[self._n : end] = chunk
        self._n = end

    def finish(self) -> npt.NDArray[np.float32]:
        self._data.resize(self._n, refcheck=False)
        return self._data


def _estimate_samples(container: Any, stream: Any, window: _Window) -> int:
    """Initial buffer size from the declared duration (it only has to be close)."""
    seconds = 0.0
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / 1_000_000
    if seconds <= 0 and window.end is None:
        return _MIN_CAPACITY
    total = int(seconds * SAMPLE_RATE) + SAMPLE_RATE if seconds > 0 else (window.end or 0)
    if window.end is not None:
        total = min(total, window.end)
    return max(SAMPLE_RATE, min(total - window.start, _MAX_INITIAL_CAPACITY))


def _nothing_decoded(
    name: str, stats: _Stats, start_ms: int | None, end_ms: int | None
) -> MediaError:
    if stats.bad_packets:
        return NotMediaError(
            f"{name}: not an audio or video file ffmpeg can read "
            f"(none of its {stats.bad_packets} audio packet(s) could be decoded)"
        )
    if stats.produced and (start_ms or end_ms is not None):
        span = f"{start_ms or 0} ms to {'the end' if end_ms is None else f'{end_ms} ms'}"
        length = stats.produced // _SAMPLES_PER_MS
        return EmptyMediaError(f"{name}: no audio from {span} (the media is {length} ms long)")
    return EmptyMediaError(f"{name}: contains no audio samples (empty or truncated)")

"""Multichannel audio: one transcript per channel, merged into one in time order.

A call recorded in stereo has the agent on one channel and the customer on the other;
down-mixing them loses the quieter voice where both talk at once. Each channel is
transcribed on its own, its words and segments carry the channel ("1", "2"...), and the
merged transcript lists segments by start time. A mono recording stored as stereo (both
channels the same) is transcribed once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from earmark.types import AudioData, Transcript

__all__ = ["SAME_CHANNEL_RATIO", "distinct_channels", "merge_channels"]

SAME_CHANNEL_RATIO = 0.05
"""Two channels are the same recording when the RMS of their difference is below this
share of the louder one's RMS (a mono file stored as stereo differs by dither only)."""


def distinct_channels(tracks: Sequence[AudioData]) -> list[int]:
    """Indices of the channels to transcribe: a channel equal to an earlier one is skipped."""
    keep: list[int] = []
    for i, track in enumerate(tracks):
        if not any(_same(track, tracks[j]) for j in keep):
            keep.append(i)
    return keep


def _same(a: AudioData, b: AudioData) -> bool:
    n = min(a.samples.shape[0], b.samples.shape[0])
    if n == 0:
        return True
    x, y = a.samples[:n].astype(np.float64), b.samples[:n].astype(np.float64)
    loud = max(float(np.sqrt(np.mean(x * x))), float(np.sqrt(np.mean(y * y))))
    if loud == 0.0:
        return True
    return float(np.sqrt(np.mean((x - y) ** 2))) < SAME_CHANNEL_RATIO * loud


def merge_channels(parts: Sequence[tuple[str, Transcript]], channels: int) -> Transcript:
    """One transcript from per-channel ones: segments by start time, ids renumbered."""
    segments = []
    for channel, transcript in parts:
        for seg in transcript.segments:
            words = tuple(dataclasses.replace(w, channel=channel) for w in seg.words)
            segments.append(dataclasses.replace(seg, words=words, channel=channel))
    segments.sort(key=lambda s: (s.start_ms, s.channel or "", s.end_ms))
    segments = [dataclasses.replace(s, id=i) for i, s in enumerate(segments)]
    first = parts[0][1]
    main = max(parts, key=lambda p: sum(len(s.words) or 1 for s in p[1].segments))[1]
    return dataclasses.replace(
        first,
        text=" ".join(s.text for s in segments if s.text),
        segments=tuple(segments),
        language=main.language,
        language_probability=main.language_probability,
        duration_ms=max(t.duration_ms for _, t in parts),
        channels=channels,
    )

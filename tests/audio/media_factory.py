"""Build media files with PyAV: every container and codec earmark promises to read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

SR = 16_000


@dataclass(frozen=True)
class MediaSpec:
    """One file to build: container suffix, audio codec (None: no audio), optional video."""

    suffix: str
    audio_codec: str | None
    rate: int = 44_100
    layout: str = "stereo"
    video_codec: str | None = None


# What the tests encode; the names are the test ids.
AUDIO_SPECS = {
    "wav": MediaSpec(".wav", "pcm_s16le"),
    "flac": MediaSpec(".flac", "flac"),
    "mp3": MediaSpec(".mp3", "libmp3lame"),
    "m4a": MediaSpec(".m4a", "aac"),
    "ogg-opus": MediaSpec(".ogg", "libopus", rate=48_000),
    "opus": MediaSpec(".opus", "libopus", rate=48_000, layout="mono"),
    "webm": MediaSpec(".webm", "libopus", rate=48_000),
    "mov": MediaSpec(".mov", "aac"),
}
VIDEO_SPECS = {
    "mp4-h264-aac": MediaSpec(".mp4", "aac", video_codec="libx264"),
    "mkv-h264-opus": MediaSpec(".mkv", "libopus", rate=48_000, video_codec="libx264"),
    "webm-vp8-opus": MediaSpec(".webm", "libopus", rate=48_000, video_codec="libvpx"),
    "mov-mpeg4-aac": MediaSpec(".mov", "aac", video_codec="mpeg4"),
}


def write_media(path: Path, samples: npt.NDArray[np.float32], spec: MediaSpec) -> Path:
    """Encode 16 kHz mono ``samples`` into ``path`` (PyAV resamples to the codec's needs)."""
    seconds = len(samples) / SR
    with av.open(str(path), "w") as out:
        video = None
        if spec.video_codec is not None:
            video = out.add_stream(spec.video_codec, rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = None
        if spec.audio_codec is not None:
            audio = out.add_stream(spec.audio_codec, rate=spec.rate, layout=spec.layout)
        if video is not None:
            for i in range(max(1, int(seconds * 10))):
                img = np.full((48, 64, 3), (i * 7) % 255, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                out.mux(video.encode(frame))
            out.mux(video.encode(None))
        if audio is not None:
            for start in range(0, len(samples), 4000):
                chunk = np.ascontiguousarray(samples[start : start + 4000], dtype=np.float32)
                frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                frame.sample_rate = SR
                out.mux(audio.encode(frame))
            out.mux(audio.encode(None))
    return path

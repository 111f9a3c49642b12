"""Video containers built here (with a real video stream) decode and transcribe with tiny.en."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from media_factory import VIDEO_SPECS

from earmark.asr import ASROptions, get_engine
from earmark.asr.wer import word_error_rate
from earmark.audio import decode_audio


@pytest.fixture(scope="module")
def reference(shared: Path) -> str:
    with (shared / "data" / "asr_samples" / "transcripts.tsv").open(encoding="utf-8") as f:
        rows = {r["audio_path"]: r for r in csv.DictReader(f, delimiter="\t")}
    return rows["audio/jfk.flac"]["reference_transcript"]


@pytest.mark.parametrize("name", ["mp4-h264-aac", "mkv-h264-opus", "webm-vp8-opus"])
def test_video_transcribes(
    name: str, tmp_path: Path, jfk_samples: npt.NDArray[np.float32], reference: str
) -> None:
    import av
    from media_factory import write_media

    # A tone before the speech, so the audio track is not just a copy of the clip.
    tone = (0.1 * np.sin(np.arange(8_000) * 2 * np.pi * 440 / 16_000)).astype(np.float32)
    path = write_media(
        tmp_path / f"talk{VIDEO_SPECS[name].suffix}",
        np.concatenate([tone, jfk_samples]),
        VIDEO_SPECS[name],
    )
    with av.open(str(path)) as c:  # the file really is a video with sound
        assert c.streams.video and c.streams.audio

    audio = decode_audio(path)
    assert abs(audio.duration_ms - 11_500) <= 100

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t = get_engine("tiny.en", device="cpu").transcribe(audio, ASROptions(model="tiny.en"))
    assert word_error_rate(reference, t.text) <= 0.10, t.text
    assert t.words[-1].end_ms <= audio.duration_ms

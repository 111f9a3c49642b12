"""Bad input gets a specific MediaError that names the file, never a raw av exception."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from media_factory import MediaSpec, write_media

from earmark.audio import decode_audio, probe_duration_ms
from earmark.errors import (
    EmptyMediaError,
    MediaError,
    MediaNotFoundError,
    NoAudioStreamError,
    NotMediaError,
)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "talk.mp3"
    with pytest.raises(MediaNotFoundError, match="no such file") as exc:
        decode_audio(path)
    assert str(path) in str(exc.value)
    assert exc.value.status_code == 400
    with pytest.raises(MediaNotFoundError):
        probe_duration_ms(path)


# ffmpeg opens *.txt as "ANSI art" video, so the name matters: try several.
@pytest.mark.parametrize("name", ["notes.txt", "notes.mp3", "notes.md", "notes"])
def test_text_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("Meeting notes\n- ask not what your country can do\n" * 40)
    with pytest.raises(NotMediaError, match="not an audio or video file ffmpeg can read") as exc:
        decode_audio(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("name", ["noise.bin", "noise.mp3", "noise.aac", "noise.ogg", "noise.wav"])
def test_random_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(NotMediaError, match="not an audio or video file") as exc:
        decode_audio(path)
    assert str(path) in str(exc.value)


def test_random_bytes_upload() -> None:
    data = np.random.default_rng(8).integers(0, 256, 10_000, dtype=np.uint8).tobytes()
    with pytest.raises(NotMediaError, match=r"uploaded media \(10000 bytes\)"):
        decode_audio(data)


def test_video_without_audio(tmp_path: Path, speech: npt.NDArray[np.float32]) -> None:
    path = write_media(
        tmp_path / "silent.mp4", speech, MediaSpec(".mp4", None, video_codec="libx264")
    )
    with pytest.raises(NoAudioStreamError, match="no audio track") as exc:
        decode_audio(path)
    assert str(path) in str(exc.value)
    assert "video" in str(exc.value)


def test_zero_length_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.touch()
    with pytest.raises(EmptyMediaError, match="empty") as exc:
        decode_audio(path)
    assert str(path) in str(exc.value)


def test_zero_length_upload() -> None:
    with pytest.raises(EmptyMediaError, match="0 bytes"):
        decode_audio(b"")


def test_media_with_zero_samples(tmp_path: Path, speech: npt.NDArray[np.float32]) -> None:
    """A valid WAV header and no data: it opens, but holds no audio."""
    full = write_media(tmp_path / "full.wav", speech, MediaSpec(".wav", "pcm_s16le"))
    header_only = tmp_path / "header_only.wav"
    data = full.read_bytes()
    header_only.write_bytes(data[: data.index(b"data") + 8])  # up to the data chunk's size
    with pytest.raises(EmptyMediaError, match="no audio samples") as exc:
        decode_audio(header_only)
    assert str(header_only) in str(exc.value)


@pytest.mark.parametrize(
    "spec",
    [
        MediaSpec(".flac", "flac"),
        MediaSpec(".mp3", "libmp3lame"),
        MediaSpec(".wav", "pcm_s16le"),
        MediaSpec(".ogg", "libopus", rate=48_000),
        MediaSpec(".mkv", "libopus", rate=48_000, video_codec="libx264"),
    ],
    ids=lambda s: s.suffix,
)
def test_truncated_file_decodes_what_is_there(
    tmp_path: Path, speech: npt.NDArray[np.float32], spec: MediaSpec
) -> None:
    full = write_media(tmp_path / f"full{spec.suffix}", speech, spec)
    cut = tmp_path / f"cut{spec.suffix}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])

    audio = decode_audio(cut)

    assert 500 <= audio.duration_ms <= 2_500, audio.duration_ms


def test_truncated_mp4_without_index(tmp_path: Path, speech: npt.NDArray[np.float32]) -> None:
    """An m4a cut before its index (moov at the end) cannot be read: a clear error."""
    full = write_media(tmp_path / "full.m4a", speech, MediaSpec(".m4a", "aac"))
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises((NotMediaError, EmptyMediaError)) as exc:
        decode_audio(cut)
    assert str(cut) in str(exc.value)
    assert "truncated" in str(exc.value)


def test_a_directory_is_not_media(tmp_path: Path) -> None:
    with pytest.raises(NotMediaError, match="directory"):
        decode_audio(tmp_path)


def test_every_media_error_is_an_input_error() -> None:
    for cls in (MediaNotFoundError, NotMediaError, NoAudioStreamError, EmptyMediaError):
        assert issubclass(cls, MediaError)
        assert cls("x").status_code == 400

"""decode_audio reads every promised format, by path or bytes, whole or a stretch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from faster_whisper.audio import decode_audio as fw_decode_audio
from media_factory import AUDIO_SPECS, SR, VIDEO_SPECS, MediaSpec, write_media

from earmark.audio import decode_audio, probe_duration_ms
from earmark.audio.decode import _Buffer
from earmark.errors import EmptyMediaError, InputError

MakeMedia = Callable[[str, npt.NDArray[np.float32], MediaSpec], Path]


def best_correlation(ref: npt.NDArray[np.float32], got: npt.NDArray[np.float32]) -> float:
    """Peak normalised cross-correlation within +-50 ms (codecs add a little delay)."""
    n = min(len(ref), len(got))
    a = ref[:n] - ref[:n].mean()
    b = got[:n] - got[:n].mean()
    size = 1 << (2 * n - 1).bit_length()
    xc = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    max_lag = SR // 20
    window = np.concatenate([xc[: max_lag + 1], xc[-max_lag:]])
    return float(window.max() / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("name", list(AUDIO_SPECS) + list(VIDEO_SPECS))
def test_every_format_decodes_to_mono_16k(
    name: str, speech: npt.NDArray[np.float32], make_media: MakeMedia
) -> None:
    spec = {**AUDIO_SPECS, **VIDEO_SPECS}[name]
    path = make_media(name, speech, spec)

    audio = decode_audio(path)

    assert audio.sample_rate == 16_000
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.source == str(path)
    assert audio.offset_ms == 0
    assert abs(audio.duration_ms - 3000) <= 100, audio.duration_ms
    assert np.abs(audio.samples).max() <= 1.0
    # The speech itself came through (not silence or noise), whatever the codec did.
    assert best_correlation(speech, audio.samples) > 0.9


def test_same_samples_as_faster_whisper_decoder(
    jfk_flac: Path, jfk_samples: npt.NDArray[np.float32]
) -> None:
    """44.1 kHz stereo FLAC: same down-mix and resampling as Whisper's own preprocessing."""
    audio = decode_audio(jfk_flac)
    assert audio.duration_ms == 11_000
    np.testing.assert_allclose(audio.samples, jfk_samples, atol=1e-4)


def test_bytes_decode_like_the_file(jfk_flac: Path) -> None:
    from_path = decode_audio(jfk_flac)
    from_bytes = decode_audio(jfk_flac.read_bytes())
    assert "bytes" in from_bytes.source
    np.testing.assert_array_equal(from_bytes.samples, from_path.samples)


def test_stretch_matches_slice_of_whole(jfk_flac: Path) -> None:
    whole = decode_audio(jfk_flac).samples
    part = decode_audio(jfk_flac, start_ms=2_500, end_ms=4_000)
    assert part.offset_ms == 2_500
    assert part.duration_ms == 1_500
    np.testing.assert_array_equal(part.samples, whole[40_000:64_000])

    tail = decode_audio(jfk_flac, start_ms=10_000)
    assert tail.duration_ms == 1_000
    head = decode_audio(jfk_flac, end_ms=500)
    assert head.offset_ms == 0 and head.duration_ms == 500


def test_end_past_the_media_keeps_what_exists(jfk_flac: Path) -> None:
    audio = decode_audio(jfk_flac, start_ms=9_000, end_ms=60_000)
    assert audio.duration_ms == 2_000


def test_bad_ranges(jfk_flac: Path) -> None:
    with pytest.raises(InputError, match="start_ms"):
        decode_audio(jfk_flac, start_ms=-1)
    with pytest.raises(InputError, match="end_ms"):
        decode_audio(jfk_flac, start_ms=2_000, end_ms=2_000)
    with pytest.raises(EmptyMediaError, match=r"11000 ms long") as exc:
        decode_audio(jfk_flac, start_ms=20_000)
    assert str(jfk_flac) in str(exc.value)


def test_long_file_decodes_seamlessly(tmp_path: Path) -> None:
    """95 s of 44.1 kHz stereo: many resampling chunks, joined without a seam."""
    rng = np.random.default_rng(0)
    n = SR * 95
    tone = (0.2 * np.sin(np.arange(n) * 2 * np.pi * 220 / SR)).astype(np.float32)
    tone += 0.01 * rng.standard_normal(n).astype(np.float32)
    path = write_media(tmp_path / "long.wav", tone, MediaSpec(".wav", "pcm_s16le"))

    audio = decode_audio(path)

    assert audio.duration_ms == 95_000
    np.testing.assert_array_equal(audio.samples, fw_decode_audio(str(path)))


def test_buffer_grows_past_a_wrong_estimate() -> None:
    buf = _Buffer(10)
    parts = [np.full(7, i, dtype=np.float32) for i in range(5)]
    for p in parts:
        buf.append(p)
    np.testing.assert_array_equal(buf.finish(), np.concatenate(parts))


def test_probe_duration(jfk_flac: Path) -> None:
    assert probe_duration_ms(jfk_flac) == 11_000

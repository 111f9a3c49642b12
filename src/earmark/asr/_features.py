"""Whisper's log-Mel features in blocks: same numbers as faster-whisper, a fraction of the memory.

faster-whisper 1.2 computes the STFT of the whole recording at once; its temporaries
(windowed frames, complex spectra, magnitudes) cost about 30 bytes per sample, so a
2-hour file needs 3-4 GB just for features. This drop-in computes the same features
30 s at a time and keeps only the 80-band result (about 1.3 bytes per sample).
The final clamp (``max - 8``) uses the global maximum, exactly like the original.

Imported only when a model loads (it needs faster-whisper).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper.feature_extractor import FeatureExtractor

__all__ = ["BlockedFeatureExtractor"]

_BLOCK_FRAMES = 3000  # 30 s of 10 ms frames


class BlockedFeatureExtractor(FeatureExtractor):  # type: ignore[misc]
    """faster-whisper's FeatureExtractor with a block-wise, memory-flat ``__call__``."""

    def __call__(
        self, waveform: npt.NDArray[Any], padding: int = 160, chunk_length: int | None = None
    ) -> npt.NDArray[np.float32]:
        if chunk_length is not None:  # the parent's contract, kept as is
            self.n_samples = chunk_length * self.sampling_rate
            self.nb_max_frames = self.n_samples // self.hop_length
        return log_mel(
            waveform, self.mel_filters, n_fft=self.n_fft, hop=self.hop_length, padding=padding
        )


def _reflect_padded(waveform: npt.NDArray[Any], padding: int, half: int) -> npt.NDArray[np.float32]:
    """``np.pad(np.pad(w, (0, padding)), half, mode="reflect")`` in one float32 copy."""
    n = waveform.shape[0] + padding
    if n <= half:  # too short to reflect once: let numpy do its repeated reflection
        return np.pad(
            np.pad(waveform.astype(np.float32), (0, padding)), (half, half), mode="reflect"
        )
    out = np.zeros(n + 2 * half, dtype=np.float32)
    body = out[half : half + n]
    body[: waveform.shape[0]] = waveform
    out[:half] = body[half:0:-1]
    out[half + n :] = body[n - 2 : n - 2 - half : -1]
    return out


def log_mel(
    waveform: npt.NDArray[Any],
    mel_filters: npt.NDArray[np.float32],
    *,
    n_fft: int = 400,
    hop: int = 160,
    padding: int = 160,
) -> npt.NDArray[np.float32]:
    """Whisper's normalised log-Mel spectrogram, shape ``(n_mels, frames)``."""
    half = n_fft // 2
    padded = _reflect_padded(np.asarray(waveform), padding, half)
    n_frames = 1 + (padded.shape[0] - n_fft) // hop - 1  # the last frame is dropped
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    out = np.empty((mel_filters.shape[0], max(n_frames, 0)), dtype=np.float32)
    step = padded.strides[0]
    for start in range(0, n_frames, _BLOCK_FRAMES):
        count = min(_BLOCK_FRAMES, n_frames - start)
        frames = np.lib.stride_tricks.as_strided(
            padded[start * hop :], (count, n_fft), (hop * step, step), writeable=False
        )
        spectrum = np.fft.rfft(frames * window, n=n_fft, axis=-1).astype(np.complex64)
        magnitudes = np.abs(spectrum.T) ** 2
        mel = mel_filters @ magnitudes
        out[:, start : start + count] = np.log10(np.clip(mel, a_min=1e-10, a_max=None))
    if out.size:
        np.maximum(out, out.max() - 8.0, out=out)
    out += 4.0
    out /= 4.0
    return out

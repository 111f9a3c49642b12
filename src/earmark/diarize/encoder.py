"""Speaker signatures: Resemblyzer's GE2E voice encoder, run in numpy.

The weights come from the ``resemblyzer`` package (``resemblyzer/pretrained.pt``, Apache-2.0),
read as a legacy torch checkpoint by :mod:`earmark.diarize._torch_legacy`: neither torch nor
librosa nor the package itself is imported. The network is a 3-layer LSTM of 256 over
40-band mel power frames (25 ms window, 10 ms hop, 16 kHz), a linear layer of 256 and a ReLU;
the d-vector is the L2-normalised output at the last frame. An utterance is cut into partials
of 160 frames (1.6 s) and its signature is the normalised mean of theirs, as Resemblyzer does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import numpy.typing as npt

from earmark.diarize._torch_legacy import load_legacy_state
from earmark.errors import ModelError

__all__ = ["RESEMBLYZER", "VoiceEncoder", "mel_power", "resemblyzer_weights"]

RESEMBLYZER = "resemblyzer==0.1.4"
SAMPLE_RATE = 16_000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
HIDDEN = 256
LAYERS = 3

FloatArray = npt.NDArray[np.float32]


def resemblyzer_weights() -> Path:
    """The path of ``resemblyzer/pretrained.pt``, found without importing the package."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "speaker labels need the voice encoder of the resemblyzer package: "
            f"pip install --no-deps {RESEMBLYZER}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise ModelError(
            f"{path} is missing: reinstall with pip install --no-deps --force-reinstall {RESEMBLYZER}"
        )
    return path


def _mel_filters() -> FloatArray:
    """librosa's default mel filterbank (Slaney scale and area norm) for 16 kHz, n_fft 400."""
    fmin, fmax = 0.0, SAMPLE_RATE / 2

    def hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        f_sp = 200.0 / 3
        mel = hz / f_sp
        min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
        min_log_mel = min_log_hz / f_sp
        log = hz >= min_log_hz
        mel[log] = min_log_mel + np.log(hz[log] / min_log_hz) / logstep
        return mel

    def mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        f_sp = 200.0 / 3
        hz = mel * f_sp
        min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
        min_log_mel = min_log_hz / f_sp
        log = mel >= min_log_mel
        hz[log] = min_log_hz * np.exp(logstep * (mel[log] - min_log_mel))
        return hz

    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = hz_to_mel(np.array([fmin, fmax], dtype=np.float64))
    mel_f = mel_to_hz(np.linspace(edges[0], edges[1], N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights.astype(np.float32)


_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def mel_power(samples: FloatArray, filters: FloatArray) -> FloatArray:
    """Mel power frames ``[frames, 40]`` of 16 kHz samples (centred frames, as librosa)."""
    padded = np.pad(samples.astype(np.float32), N_FFT // 2, mode="reflect")
    n = 1 + (len(padded) - N_FFT) // HOP
    if n <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n)[:, None]
    spectrum = np.abs(np.fft.rfft(padded[idx] * _WINDOW, axis=1)) ** 2
    return (spectrum.astype(np.float32) @ filters.T).astype(np.float32)


def _sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)
    return out


class VoiceEncoder:
    """The GE2E encoder; load once and reuse (the weights are 17 MB)."""

    def __init__(self, weights: Path | None = None) -> None:
        path = weights if weights is not None else resemblyzer_weights()
        try:
            state = load_legacy_state(path)["model_state"]
            self._w_ih = [np.ascontiguousarray(state[f"lstm.weight_ih_l{i}"].T) for i in range(3)]
            self._w_hh = [np.ascontiguousarray(state[f"lstm.weight_hh_l{i}"].T) for i in range(3)]
            self._b = [state[f"lstm.bias_ih_l{i}"] + state[f"lstm.bias_hh_l{i}"] for i in range(3)]
            self._lin_w = np.ascontiguousarray(state["linear.weight"].T)
            self._lin_b = state["linear.bias"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"cannot read the voice encoder {path}: {exc}") from exc
        self._filters = _mel_filters()

    def embed_frames(self, mels: FloatArray) -> FloatArray:
        """d-vectors ``[batch, 256]`` of mel batches ``[batch, frames, 40]``."""
        x = mels.astype(np.float32)
        batch, steps, _ = x.shape
        for layer in range(LAYERS):
            projected = x @ self._w_ih[layer] + self._b[layer]  # [batch, steps, 1024]
            w_hh = self._w_hh[layer]
            h = np.zeros((batch, HIDDEN), dtype=np.float32)
            c = np.zeros((batch, HIDDEN), dtype=np.float32)
            outputs = np.empty((batch, steps, HIDDEN), dtype=np.float32)
            for t in range(steps):
                gates = projected[:, t] + h @ w_hh
                i = _sigmoid(gates[:, :HIDDEN])
                f = _sigmoid(gates[:, HIDDEN : 2 * HIDDEN])
                g = np.tanh(gates[:, 2 * HIDDEN : 3 * HIDDEN])
                o = _sigmoid(gates[:, 3 * HIDDEN :])
                c = f * c + i * g
                h = o * np.tanh(c)
                outputs[:, t] = h
            x = outputs
        raw = np.maximum(x[:, -1] @ self._lin_w + self._lin_b, 0.0)
        norm = np.linalg.norm(raw, axis=1, keepdims=True)
        vectors: FloatArray = (raw / np.maximum(norm, 1e-8)).astype(np.float32)
        return vectors

    def embed(self, pieces: list[FloatArray]) -> FloatArray:
        """One signature ``[len(pieces), 256]`` per list of samples (each piece is one voice).

        Each piece is cut in partials of 1.6 s (the last one kept when at least half full,
        a piece shorter than a partial is used whole) and all partials of all pieces run as
        one batch per length.
        """
        partials: list[FloatArray] = []
        owner: list[int] = []
        for n, samples in enumerate(pieces):
            wav = _normalise_volume(samples)
            mel = mel_power(wav, self._filters)
            if len(mel) <= PARTIAL_FRAMES:
                chunks = [mel]
            else:
                starts = list(range(0, len(mel) - PARTIAL_FRAMES + 1, PARTIAL_FRAMES))
                rest = len(mel) - (starts[-1] + PARTIAL_FRAMES)
                if rest >= PARTIAL_FRAMES // 2:
                    starts.append(len(mel) - PARTIAL_FRAMES)
                chunks = [mel[s : s + PARTIAL_FRAMES] for s in starts]
            for chunk in chunks:
                if len(chunk):
                    partials.append(chunk)
                    owner.append(n)
        out = np.zeros((len(pieces), 256), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for k, chunk in enumerate(partials):
            by_length.setdefault(len(chunk), []).append(k)
        for indices in by_length.values():
            vectors = self.embed_frames(np.stack([partials[k] for k in indices]))
            for k, vector in zip(indices, vectors, strict=True):
                out[owner[k]] += vector
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        signatures: FloatArray = (out / np.maximum(norm, 1e-8)).astype(np.float32)
        return signatures


def _normalise_volume(samples: FloatArray, target_dbfs: float = -30.0) -> FloatArray:
    """Raise quiet audio to ``target_dbfs`` RMS (never lower it), as Resemblyzer does."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    if rms <= 1e-9:
        return samples
    change = target_dbfs - 20 * np.log10(rms)
    if change <= 0:
        return samples
    louder: FloatArray = (samples * (10 ** (change / 20))).astype(np.float32)
    return louder

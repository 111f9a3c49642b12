"""The block-wise log-Mel features are faster-whisper's (to float rounding), for any length."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from faster_whisper.feature_extractor import FeatureExtractor

from earmark.asr import ASREngine, FasterWhisperEngine
from earmark.asr._features import BlockedFeatureExtractor
from earmark.types import AudioData

# Matrix products over blocks may round the last bit differently (BLAS blocking).
ATOL = 1e-6


@pytest.mark.parametrize("n", [0, 1, 150, 200, 201, 359, 400, 16_000, 3000 * 160 + 37])
def test_same_features_as_faster_whisper(n: int) -> None:
    wave = np.random.default_rng(n).standard_normal(n).astype(np.float32) * 0.1
    expected = FeatureExtractor()(wave)
    got = BlockedFeatureExtractor()(wave)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


def test_same_features_on_speech_spanning_blocks(jfk_audio: AudioData) -> None:
    long: npt.NDArray[np.float32] = np.tile(jfk_audio.samples, 4)  # 44 s: two blocks
    np.testing.assert_allclose(
        BlockedFeatureExtractor()(long), FeatureExtractor()(long), rtol=0, atol=ATOL
    )
    as_float64 = jfk_audio.samples.astype(np.float64)
    np.testing.assert_allclose(
        BlockedFeatureExtractor()(as_float64), FeatureExtractor()(as_float64), rtol=0, atol=ATOL
    )


def test_chunk_length_contract_kept() -> None:
    fe = BlockedFeatureExtractor()
    fe(np.zeros(1600, dtype=np.float32), chunk_length=20)
    assert (fe.n_samples, fe.nb_max_frames) == (320_000, 2000)


def test_engines_use_it(tiny_engine: ASREngine) -> None:
    assert isinstance(tiny_engine, FasterWhisperEngine)
    assert isinstance(tiny_engine._model.feature_extractor, BlockedFeatureExtractor)

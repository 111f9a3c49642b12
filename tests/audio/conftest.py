"""Fixtures for the audio tests: reference samples and media files built on the fly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from faster_whisper.audio import decode_audio as fw_decode_audio
from media_factory import SR, MediaSpec, write_media


@pytest.fixture(scope="session")
def jfk_samples(jfk_flac: Path) -> npt.NDArray[np.float32]:
    """The JFK clip at 16 kHz mono, decoded by faster-whisper's own decoder (a reference)."""
    return np.asarray(fw_decode_audio(str(jfk_flac)), dtype=np.float32)


@pytest.fixture(scope="session")
def speech(jfk_samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Three seconds of speech ("ask not what your country...")."""
    return jfk_samples[3 * SR : 6 * SR].copy()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def make_media(media_dir: Path) -> Callable[[str, npt.NDArray[np.float32], MediaSpec], Path]:
    """Build (once per name) a media file from samples and a spec."""
    built: dict[str, Path] = {}

    def make(name: str, samples: npt.NDArray[np.float32], spec: MediaSpec) -> Path:
        if name not in built:
            built[name] = write_media(media_dir / f"{name}{spec.suffix}", samples, spec)
        return built[name]

    return make

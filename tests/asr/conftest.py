"""Fixtures for the ASR tests: the real tiny.en engine (loaded once) and references."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from earmark.asr import ASREngine, get_engine
from earmark.audio import decode_audio
from earmark.types import AudioData


@pytest.fixture(scope="session")
def tiny_engine() -> ASREngine:
    """The embedded tiny.en model on CPU, shared by every test (get_engine caches it)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return get_engine("tiny.en", device="cpu")


@pytest.fixture(scope="session")
def jfk_reference(shared: Path) -> str:
    table = shared / "data" / "asr_samples" / "transcripts.tsv"
    with table.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["audio_path"] == "audio/jfk.flac":
                return row["reference_transcript"]
    raise AssertionError(f"no jfk reference in {table}")


@pytest.fixture(scope="session")
def jfk_audio(jfk_flac: Path) -> AudioData:
    return decode_audio(jfk_flac)

"""Shared test fixtures: where the shared datasets live, and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = REPO_ROOT / "examples"


def shared_dir() -> Path:
    """``../shared`` beside the repository (override with ``EARMARK_SHARED_DIR``)."""
    env = os.environ.get("EARMARK_SHARED_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "data").is_dir():
        pytest.fail(f"shared datasets not found at {path}; set EARMARK_SHARED_DIR")
    return path


@pytest.fixture(scope="session")
def jfk_flac(shared: Path) -> Path:
    return shared / "data" / "asr_samples" / "audio" / "jfk.flac"


@pytest.fixture(scope="session")
def example_clip() -> Path:
    return EXAMPLES / "news_clip.mp3"

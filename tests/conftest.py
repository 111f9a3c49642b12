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


STATIC_TEXTS = [
    "The football team won the match after a late goal, and the coach praised the players.",
    "The coach praised the players after the match and the league title race.",
    "Shares fell as the company reported lower profits and the bank raised interest rates.",
    "Investors sold stock after the market dropped, trade slowed and the economy shrank.",
]


@pytest.fixture(scope="session")
def static_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``EARMARK_CACHE_DIR`` holding a static table distilled on a small vocabulary.

    The pieces of STATIC_TEXTS, of the media and support presets' prototypes, of the
    neutral sentences and 300 common words (a few seconds, not the minute of the full
    table), saved under the name :class:`StaticEncoder` looks for with default options.
    """
    import numpy as np
    from tokenizers import Tokenizer

    from earmark.tagging import load_tags
    from earmark.tagging.embedding import EmbeddingTagger, neutral_texts
    from earmark.tagging.encoder import minilm_model_dir
    from earmark.tagging.static_encoder import StaticOptions, _model_key, distill_table

    model_dir = minilm_model_dir()
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tagger = EmbeddingTagger()
    texts = [*STATIC_TEXTS, *neutral_texts()]
    for preset in ("media", "support"):
        for t in load_tags(preset).tags:
            texts.extend(tagger._prototypes(t.name, t.description))
    ids = {i for e in tok.encode_batch(texts, add_special_tokens=False) for i in e.ids}
    ids |= set(range(1996, 2296))
    options = StaticOptions()
    table = distill_table(model_dir, options, ids=sorted(ids))
    cache = tmp_path_factory.mktemp("static-cache")
    path = cache / "minilm-static" / f"{_model_key(model_dir, options)}.npy"
    path.parent.mkdir()
    np.save(path, table.astype(np.float16))
    return cache

"""The ``static`` tagging engine: the embedding tagger on the static MiniLM table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import earmark.tagging as tagging
from earmark.cli.tag import load_tagger
from earmark.config import ASRSettings, Settings
from earmark.errors import InputError
from earmark.tagging import ENGINES, TaggerPool, get_tagger, load_tags
from earmark.tagging import static_encoder as se
from earmark.tagging.embedding import EmbeddingConfig, EmbeddingTagger
from earmark.tagging.static_encoder import STATIC_CONFIG, StaticEncoder, StaticOptions
from earmark.types import Segment, Transcript
from tests.conftest import STATIC_TEXTS


@pytest.fixture
def small_static(static_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh tagger pool whose static table is the small cached one (no distillation):
    ``get_tagger`` below builds from it."""
    monkeypatch.setenv("EARMARK_CACHE_DIR", str(static_cache_dir))
    pool = TaggerPool(Settings(asr=ASRSettings(cache_dir=static_cache_dir)))
    monkeypatch.setattr(tagging, "default_pool", lambda: pool)

    def no_distill(*args: object, **kwargs: object) -> None:
        raise AssertionError("the test table should have been found in the cache")

    monkeypatch.setattr(se, "distill_table", no_distill)
    return static_cache_dir


def test_static_engine_is_listed_and_cached(small_static: Path) -> None:
    assert "static" in ENGINES
    tagger = get_tagger("static")
    assert isinstance(tagger, EmbeddingTagger) and isinstance(tagger.encoder, StaticEncoder)
    assert tagger.config == STATIC_CONFIG != EmbeddingConfig()
    assert tagger.encoder.cache_path is not None
    assert tagger.encoder.cache_path.parent == small_static / "minilm-static"
    assert get_tagger("static", "all-MiniLM-L6-v2") is tagger
    with pytest.raises(InputError, match="unknown model 'bert' for the static tagger"):
        get_tagger("static", "bert")


def test_static_tags_sports_and_business(small_static: Path) -> None:
    tags = load_tags("media")
    results = get_tagger("static").tag_many(list(STATIC_TEXTS), tags)
    assert [r.best_tag for r in results[:2]] == ["Sports", "Sports"]  # over the threshold
    for r in results[2:]:
        assert r.best_tag in {"Business", "Finance"}
        assert {s.tag for s in r.tags[:2]} == {"Business", "Finance"}
    assert all(r.engine == "static" and r.best_tag == r.tags[0].tag for r in results)


def test_static_result_has_the_embedding_taggers_shape(small_static: Path) -> None:
    tags = load_tags("media")
    words = " ".join(STATIC_TEXTS).split()
    transcript = Transcript(
        text=" ".join(words),
        segments=tuple(
            Segment(id=i, start_ms=i * 20_000, end_ms=(i + 1) * 20_000, text=t)
            for i, t in enumerate(STATIC_TEXTS)
        ),
        language="en",
        language_probability=1.0,
        duration_ms=80_000,
    )
    fast = get_tagger("static").tag(transcript, tags)
    full = get_tagger("embedding").tag(transcript, tags)
    assert type(fast) is type(full)
    assert sorted(s.tag for s in fast.tags) == sorted(s.tag for s in full.tags)
    assert [(w.start_ms, w.end_ms, w.text) for w in fast.segments] == [
        (w.start_ms, w.end_ms, w.text) for w in full.segments
    ]
    assert fast.extra.keys() == full.extra.keys()
    # each engine reports its own calibrated default threshold (the same raw gate)
    static, embedding = get_tagger("static"), get_tagger("embedding")
    assert isinstance(static, EmbeddingTagger) and isinstance(embedding, EmbeddingTagger)
    assert (fast.threshold, full.threshold) == (
        static.default_threshold,
        embedding.default_threshold,
    )
    assert fast.extra["encoder"] == "all-MiniLM-L6-v2/static127" != full.extra["encoder"]
    assert (fast.engine, full.engine) == ("static", "embedding")
    rel = np.array([s.relevance for s in fast.tags])
    assert ((rel >= 0) & (rel <= 1)).all() and (np.diff(rel) <= 0).all()


def test_cli_loader_tells_stderr_while_the_table_is_distilled(
    small_static: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cached = np.load(next((small_static / "minilm-static").iterdir())).astype(np.float32)

    def fake(
        model_dir: Path, options: StaticOptions, progress: se.Progress | None = None
    ) -> object:
        assert progress is not None
        for done in (10, 20, 30):
            progress(done, 30)
        return cached

    monkeypatch.setattr(se, "distill_table", fake)
    monkeypatch.setenv("EARMARK_CACHE_DIR", str(tmp_path))
    pool = TaggerPool(Settings(asr=ASRSettings(cache_dir=tmp_path)))
    monkeypatch.setattr(tagging, "default_pool", lambda: pool)
    tagger = load_tagger("static", None)
    assert isinstance(tagger, EmbeddingTagger) and tagger.name == "static"
    err = capsys.readouterr().err
    assert err.count("building the static tagging table once (about a minute)") == 1
    assert load_tagger("static", None) is tagger  # cached: no second message
    assert "building" not in capsys.readouterr().err
    assert list((tmp_path / "minilm-static").iterdir())


def test_static_encoder_has_one_pooling_so_the_tagger_uses_it_for_both(
    small_static: Path,
) -> None:
    tagger = get_tagger("static")
    assert isinstance(tagger, EmbeddingTagger)
    mean, weighted = tagger.encoder.encode_pair(list(STATIC_TEXTS))
    assert weighted is mean
    tag_mean, tag_weighted = tagger.tag_matrices(load_tags("media"))
    assert tag_weighted is tag_mean

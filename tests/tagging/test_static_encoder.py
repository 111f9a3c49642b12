"""The static (model2vec-style) MiniLM encoder, distilled on a small vocabulary subset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from earmark.errors import InputError
from earmark.tagging import static_encoder as se
from earmark.tagging.encoder import EncoderOptions, MiniLMEncoder, minilm_model_dir
from earmark.tagging.static_encoder import (
    StaticEncoder,
    StaticOptions,
    distill_table,
    piece_embeddings,
)

TEXTS = [
    "The team won the football match after a late goal by their striker.",
    "The player scored twice and the coach praised the fans at the stadium.",
    "Shares fell as the company reported lower profits and the bank raised interest rates.",
    "Investors sold stock after the market dropped and the economy slowed.",
    "The new phone has a faster chip, better software and a bigger screen.",
]
SMALL = StaticOptions(pca_dims=16)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return minilm_model_dir()


def _tokenizer(model_dir: Path) -> Tokenizer:
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()  # tokenizer.json pads to 128 with [PAD]
    tok.no_truncation()
    return tok


@pytest.fixture(scope="session")
def subset(model_dir: Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A table over the pieces of TEXTS plus 300 common words (a few seconds)."""
    tok = _tokenizer(model_dir)
    ids = {i for t in TEXTS for i in tok.encode(t, add_special_tokens=False).ids}
    ids |= set(range(1996, 2296))
    calls: list[tuple[int, int]] = []
    table = distill_table(
        model_dir,
        StaticOptions(pca_dims=16, batch_size=128),
        lambda d, n: calls.append((d, n)),
        ids=sorted(ids),
    )
    return table, calls


def test_piece_embedding_is_minilm_of_the_piece_alone(model_dir: Path) -> None:
    tok = _tokenizer(model_dir)
    words = ["football", "economy", "the"]
    ids = [tok.token_to_id(w) for w in words]
    got = piece_embeddings(model_dir, ids)
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    want = MiniLMEncoder(EncoderOptions(backend="numpy")).encode(words)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_subset_table_shape_progress_and_zero_rows(
    subset: tuple[np.ndarray, list[tuple[int, int]]],
) -> None:
    table, calls = subset
    assert table.shape == (30522, 16)
    assert calls[-1][0] == calls[-1][1] > 300
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert not table[5].any()  # [unused4] and pieces outside the subset stay zero
    assert not table[29000].any()
    assert np.count_nonzero(np.abs(table).sum(axis=1)) == calls[-1][1]


def test_encode_is_the_normalised_sum_of_piece_rows(
    subset: tuple[np.ndarray, list[tuple[int, int]]], model_dir: Path
) -> None:
    enc = StaticEncoder(SMALL, table=subset[0])
    tok = _tokenizer(model_dir)
    out = enc.encode([*TEXTS, "", "football"])
    assert out.shape == (len(TEXTS) + 2, 16) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out[: len(TEXTS)], axis=1), 1.0, rtol=1e-5)
    assert not out[len(TEXTS)].any()  # no word pieces: a zero row
    row = subset[0][tok.token_to_id("football")]
    np.testing.assert_allclose(out[-1], row / np.linalg.norm(row), rtol=1e-5)
    ids = tok.encode(TEXTS[0], add_special_tokens=False).ids
    want = subset[0][ids].sum(axis=0)
    np.testing.assert_allclose(out[0], want / np.linalg.norm(want), atol=1e-5)
    np.testing.assert_allclose(enc.encode(["goal team"]), enc.encode(["team goal"]), atol=1e-6)
    assert enc.count_tokens(["football match", ""]) == [4, 2]


def test_topics_separate_even_on_a_small_subset(
    subset: tuple[np.ndarray, list[tuple[int, int]]],
) -> None:
    enc = StaticEncoder(SMALL, table=subset[0])
    x = enc.encode(TEXTS)
    sims = x @ x.T
    assert sims[0, 1] > max(sims[0, 2], sims[0, 3], sims[0, 4])  # sports with sports
    assert sims[2, 3] > max(sims[2, 0], sims[2, 1], sims[2, 4])  # business with business


def test_table_is_cached_by_model_hash_and_reused(
    subset: tuple[np.ndarray, list[tuple[int, int]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def fake(model_dir: Path, options: StaticOptions, progress: object = None) -> np.ndarray:
        calls.append(1)
        return subset[0]

    monkeypatch.setattr(se, "distill_table", fake)
    opts = StaticOptions(cache_dir=tmp_path, pca_dims=16)
    first = StaticEncoder(opts)
    assert first.cache_path is not None and first.cache_path.is_file()
    assert first.cache_path.parent == tmp_path / "minilm-static"
    assert first.cache_path.name.endswith("-p16-s1-a0.0001-v2.npy")
    assert [p.name for p in first.cache_path.parent.iterdir()] == [first.cache_path.name]
    second = StaticEncoder(opts)
    assert calls == [1]
    np.testing.assert_allclose(second.encode(TEXTS), first.encode(TEXTS), atol=2e-3)
    first.cache_path.write_bytes(b"not an npy file")
    StaticEncoder(opts)  # an unreadable cache is distilled again
    assert calls == [1, 1]


def test_bad_options_are_input_errors(model_dir: Path) -> None:
    with pytest.raises(InputError):
        distill_table(model_dir, StaticOptions(pca_dims=0), ids=[2000])
    with pytest.raises(InputError):
        distill_table(model_dir, StaticOptions(sif=0.0), ids=[2000])
    with pytest.raises(InputError):
        distill_table(model_dir, StaticOptions(pca_dims=16), ids=list(range(2000, 2010)))
    with pytest.raises(InputError, match="skip_components"):
        distill_table(model_dir, StaticOptions(pca_dims=384, skip_components=1), ids=[2000])
    with pytest.raises(InputError):
        distill_table(model_dir, StaticOptions(skip_components=-1), ids=[2000])


def test_skipped_components_are_the_leading_ones(model_dir: Path) -> None:
    ids = list(range(2000, 2060))
    full = distill_table(model_dir, StaticOptions(pca_dims=8, skip_components=0), ids=ids)
    skipped = distill_table(model_dir, StaticOptions(pca_dims=7, skip_components=1), ids=ids)
    # the same projection without its first column (PCA signs may flip)
    assert np.allclose(np.abs(skipped[ids]), np.abs(full[ids][:, 1:]), atol=1e-4)

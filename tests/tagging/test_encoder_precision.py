"""The int8 MiniLM encoder: options checked, weights quantised, embeddings close to float32."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from earmark.errors import InputError
from earmark.tagging._onnx_graph import (
    SPLIT_RATIO,
    activation_ranges,
    build_minilm_graph,
    quantize_columns,
)
from earmark.tagging.encoder import (
    _CALIBRATION_TEXTS,
    EncoderOptions,
    MiniLMEncoder,
    get_encoder,
    length_batches,
    minilm_model_dir,
    minilm_pool_weights,
    sif_weights,
)


def _last_per_label(path: Path, text: str, label: str, n: int) -> list[str]:
    """``n`` texts per label from the end of a CSV file (the benchmarks use its start)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[::-1]
    seen: dict[str, int] = {}
    out = []
    for r in rows:
        if seen.get(r[label], 0) < n:
            seen[r[label]] = seen.get(r[label], 0) + 1
            out.append(text.format(**r))
    return out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (EncoderOptions(precision="fp16"), "unknown encoder precision 'fp16'"),
        (EncoderOptions(precision="INT8"), "use one of float32, int8"),
        (EncoderOptions(backend="numpy", precision="int8"), "needs the onnx backend"),
    ],
)
def test_precision_is_validated(options: EncoderOptions, message: str) -> None:
    with pytest.raises(InputError, match=message):
        MiniLMEncoder(options)


def test_quantize_columns_per_output_column() -> None:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 5)).astype(np.float32)
    w[:, 1] *= 100.0  # a column 100x larger keeps its own scale
    w[:, 4] = 0.0
    q, scale = quantize_columns(w)
    assert q.dtype == np.int8 and scale.shape == (5,) and scale.dtype == np.float32
    assert np.abs(q[:, :4]).max(axis=0).tolist() == [127, 127, 127, 127]
    assert scale[4] == 1.0 and not q[:, 4].any()
    assert np.all(np.abs(q * scale - w) <= scale / 2 + 1e-6)


def test_int8_graph_needs_calibration() -> None:
    with pytest.raises(ValueError, match="calibration"):
        build_minilm_graph({}, 6, 12, 384, "int8")


def test_calibration_finds_the_fixed_outlier_channels() -> None:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    path = minilm_model_dir()
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()
    ids = [e.ids for e in tokenizer.encode_batch(list(_CALIBRATION_TEXTS))]
    ranges = activation_ranges(load_file(str(path / "model.safetensors")), 6, 12, ids)
    assert len(ranges) == 6
    assert all(r.attention.shape == r.hidden.shape == (384,) for r in ranges)
    assert all(r.inner.shape == (1536,) for r in ranges)
    # channel 99 at every layer and feed-forward input, as measured on AG News
    assert all(int(r.attention.argmax()) == int(r.hidden.argmax()) == 99 for r in ranges)
    assert ranges[0].hidden[99] > 20
    # the intermediate channels that go to the float side path: [CLS]-only, layers 0-3
    side = [
        np.flatnonzero(r.inner > SPLIT_RATIO * np.percentile(r.inner, 99)).tolist() for r in ranges
    ]
    assert side == [[856], [607], [218, 1004], [358], [], []]


def test_int8_embeddings_close_to_float32(shared: Path) -> None:
    data = shared / "data"
    texts = _last_per_label(data / "ag_news/test.csv", "{title}. {description}", "label", 8)
    texts += _last_per_label(data / "bbc_news/bbc_news.csv", "{title}. {text}", "category", 1)
    assert len(texts) == 37
    int8 = get_encoder(EncoderOptions(precision="int8"))
    assert int8.name == "all-MiniLM-L6-v2/onnx-int8"
    exact = get_encoder(EncoderOptions(precision="float32")).encode(texts)
    approx = int8.encode(texts)
    assert approx.shape == exact.shape and approx.dtype == np.float32
    assert np.allclose(np.linalg.norm(approx, axis=1), 1.0, atol=1e-5)
    cosine = (approx * exact).sum(axis=1)
    # measured on the benchmark's 1,000 AG News + 250 BBC texts: mean 0.998, min 0.996
    assert cosine.min() > 0.99 and cosine.mean() > 0.995, (cosine.min(), cosine.mean())
    assert cosine.min() < 0.99999  # really quantised, not the float32 graph
    # pairwise similarities move little, so each text's nearest neighbour under int8 is
    # the float32 one or a near tie (measured here: max change 0.031, ties within 0.01)
    sims_exact, sims_int8 = exact @ exact.T, approx @ approx.T
    np.fill_diagonal(sims_exact, -1.0)
    np.fill_diagonal(sims_int8, -1.0)
    assert float(np.abs(sims_exact - sims_int8).max()) < 0.05
    picked = sims_exact[np.arange(len(texts)), sims_int8.argmax(axis=1)]
    assert np.all(picked >= sims_exact.max(axis=1) - 0.02)


def test_length_batches_cut_where_padding_costs() -> None:
    # the ten windows of the 5-minute benchmark transcript
    lengths = [121, 97, 106, 111, 90, 92, 96, 107, 93, 91]
    batches = length_batches(lengths, 32)
    assert [[lengths[i] for i in b] for b in batches] == [
        [90, 91, 92, 93, 96, 97],
        [106, 107, 111],
        [121],
    ]
    assert length_batches([5, 5, 5, 5, 5], 2) == [[0, 1], [2, 3], [4]]
    assert length_batches([], 8) == []
    assert length_batches([3, 40, 4], 8) == [[0, 2], [1]]


def test_pool_weights_are_sif_over_zipf_ranks_with_heavier_cls_and_sep() -> None:
    vocab = {"[PAD]": 0, "[unused0]": 1, "[CLS]": 2, "[SEP]": 3, "the": 4, "cat": 5}
    w = minilm_pool_weights(vocab)
    # usable pieces ranked 0..4 in vocabulary order ([unused0] skipped): p ~ 1 / (rank + 2)
    inv = 1.0 / (np.array([0, 1, 2, 3, 4]) + 2.0)
    p = inv / inv.sum()
    expected = 1e-5 / (1e-5 + p)
    assert w.dtype == np.float32 and w.shape == (6,)
    assert w[[2, 3]].tolist() == [2.0, 2.0]
    assert np.allclose(w[[0, 4, 5]], expected[[0, 3, 4]], rtol=1e-6)
    usable = np.array([True, False, True, True, True, True])
    assert np.allclose(sif_weights(usable, 1e-5)[[0, 4, 5]], w[[0, 4, 5]])
    assert w[4] < w[5]  # rarer pieces weigh more

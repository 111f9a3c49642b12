"""Build the all-mpnet-base-v2 ONNX graph in memory from its safetensors weights.

Same approach as :mod:`earmark.tagging._onnx_graph` (MiniLM): no ``onnx`` package, no
torch; the protobuf is written by :mod:`earmark.tagging._onnx_proto` and the weights are
handed to onnxruntime beside it. What MPNet needs beyond BERT (see
:mod:`earmark.tagging._mpnet_numpy`, the reference):

- positions: ``EmbedLayerNormalization`` numbers tokens 0, 1, 2...; MPNet's first real
  token has position 2, so the graph's position table is MPNet's from row 2 on (padding
  sits at the end of a row and is masked, its positions do not matter);
- the relative position bias: one ``[1, heads, L, L]`` table (``L`` = the encoder's
  truncation, 384) computed at build time from the bucket table, sliced to the batch's
  length and added by onnxruntime's ``MultiHeadAttention`` (its ``attention_bias``
  input), with the padding mask as its ``key_padding_mask``;
- LayerNorm epsilon 1e-5.

``precision="int8"``: the four linear layers of every block (packed QKV, attention
output, feed-forward up and down) use ``DynamicQuantizeMatMul``: weights int8 with one
scale per output column, activations quantised on the fly (one uint8 range per tensor).
MPNet has large outlier channels (calibrated maxima on four sentences): at the
feed-forward input channels 555, 461 and 568 reach 20-60 where the median channel max is
~1; after the GELU, in layers 6-10, single intermediate channels reach 50-90 (median
~1). Quantised naively, the down projection alone left a cosine of 0.67 to float32 on
a long text. So, as for MiniLM (:mod:`earmark.tagging._onnx_graph`), with maxima
calibrated at load time by the numpy reference over a few sentences:

- the inputs of the QKV and up projections are smoothed (``Mul`` by ``1/s``, ``s``
  folded into the weight rows, ``s = sqrt(max|x| / max|w|)``);
- intermediate channels whose max is over ``SPLIT_RATIO`` (3) times the 99th percentile
  go through a float32 side path.

Cosine to float32 on 266 texts (speech dev windows of 40 and 150 words, AG News
items): mean 0.9973, 5th percentile 0.9958, min 0.9935; the split alone gave mean
0.9903, smoothing the down projection's input too made long texts worse (min 0.91), and
calibrating on two more, longer sentences did not help (mean 0.9968). About 3x faster
than float32 on two cores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from earmark.tagging._mpnet_numpy import LN_EPS, NumpyMPNet, position_bias
from earmark.tagging._onnx_graph import (
    LayerRanges,
    embed_norm,
    layer_ranges,
    layer_tail,
    linear,
    observed_ranges,
    pooled_model,
)
from earmark.tagging._onnx_proto import INT32, MS_DOMAIN, Builder, node

__all__ = ["build_mpnet_graph", "channel_maxima"]

F32 = npt.NDArray[np.float32]


def channel_maxima(
    weights: Mapping[str, F32], layers: int, heads: int, texts: Sequence[Sequence[int]]
) -> list[LayerRanges]:
    """Per layer, the max abs value of each channel of its quantised matmuls' inputs."""
    return observed_ranges(NumpyMPNet(weights, layers, heads), layers, texts)


def _layer(
    b: Builder,
    w: Mapping[str, F32],
    i: int,
    h: str,
    heads: int,
    precision: str,
    ranges: LayerRanges | None,
) -> str:
    p = f"encoder.layer.{i}."
    a = f"{p}attention.attn."
    qkv_w = np.concatenate([w[f"{a}{n}.weight"].T for n in "qkv"], axis=1)
    qkv_b = np.concatenate([w[f"{a}{n}.bias"] for n in "qkv"])
    x_max = None if ranges is None else ranges.attention
    qkv = linear(b, h, qkv_w, f"l{i}.qkv", precision, x_max)
    parts = [f"l{i}.q", f"l{i}.k", f"l{i}.v"]
    b.nodes.append(node("Split", [qkv, "split3"], parts, axis=-1))
    ins = [*parts, b.init(f"l{i}.qkv.b", qkv_b), "mask32", "pos_bias"]
    att = b.node("MultiHeadAttention", ins, f"l{i}.att", MS_DOMAIN, num_heads=heads)
    return layer_tail(
        b,
        w,
        i,
        h,
        att,
        f"{a}o",
        f"{p}attention.LayerNorm",
        f"l{i}.o",
        precision,
        ranges,
        LN_EPS,
        smooth_kept=True,
    )


def build_mpnet_graph(
    weights: Mapping[str, F32],
    layers: int,
    heads: int,
    hidden: int,
    max_tokens: int,
    precision: str = "float32",
    calibration: Sequence[Sequence[int]] = (),
    pool_weights: F32 | None = None,
) -> tuple[bytes, dict[str, npt.NDArray[np.generic]]]:
    """Serialise MPNet + mean pooling + L2 normalisation as ONNX model bytes and weights.

    Inputs ``input_ids`` and ``attention_mask`` (int64, ``[batch, seq]``, ``seq <=
    max_tokens``, right-padded); output ``embedding`` (float32, ``[batch, hidden]``); with
    ``pool_weights`` a second output ``weighted`` (token-weighted pooling, as in
    :func:`earmark.tagging._onnx_graph.build_minilm_graph`). int8 needs ``calibration``
    (token id lists). The weights are returned beside the model bytes, for
    ``SessionOptions.add_external_initializers``.
    """
    ranges = layer_ranges(
        precision,
        calibration,
        layers,
        lambda: channel_maxima(weights, layers, heads, calibration),
    )
    w = weights
    b = Builder()
    b.node("Cast", ["attention_mask"], "mask32", to=INT32)
    b.node("Cast", ["input_ids"], "ids32", to=INT32)
    b.init("split3", np.array([hidden, hidden, hidden], dtype=np.int64))
    # the relative position bias of every (query, key) pair, sliced to the batch's length
    table = position_bias(w["encoder.relative_attention_bias.weight"], max_tokens)[None]
    b.node("Shape", ["input_ids"], "ids_shape")
    one = b.init("one", np.array([1], dtype=np.int64))
    b.node("Slice", ["ids_shape", one, b.init("two", np.array([2], np.int64))], "seq_len")
    b.node("Concat", ["seq_len", "seq_len"], "seq_len2", axis=0)
    starts = b.init("zeros2", np.array([0, 0], dtype=np.int64))
    axes = b.init("axes23", np.array([2, 3], dtype=np.int64))
    b.node("Slice", [b.init("pos_bias_table", table), starts, "seq_len2", axes], "pos_bias")
    positions = w["embeddings.position_embeddings.weight"][2 : 2 + max_tokens]
    h = embed_norm(b, w, positions, LN_EPS)
    for i in range(layers):
        h = _layer(b, w, i, h, heads, precision, ranges[i])
    return pooled_model(b, h, hidden, pool_weights, one)

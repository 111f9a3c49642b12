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
- intermediate channels whose max is over :data:`SPLIT_RATIO` times the 99th percentile
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
from earmark.tagging._onnx_graph import PRECISIONS, quantize_columns
from earmark.tagging._onnx_proto import FLOAT, INT32, INT64, MS_DOMAIN, Builder, node

__all__ = ["build_mpnet_graph", "channel_maxima"]

F32 = npt.NDArray[np.float32]
SPLIT_RATIO = 3.0
Maxima = list[tuple[F32, F32, F32]]  # per layer: (layer input, after LN1, after GELU)


def channel_maxima(
    weights: Mapping[str, F32], layers: int, heads: int, texts: Sequence[Sequence[int]]
) -> Maxima:
    """Per layer, the max abs value of each channel of its quantised matmuls' inputs."""
    model = NumpyMPNet(weights, layers, heads)
    seen: list[list[tuple[F32, F32, F32]]] = [[] for _ in range(layers)]

    def observe(layer: int, x: F32, h1: F32, act: F32) -> None:
        seen[layer].append((np.abs(x).max(0), np.abs(h1).max(0), np.abs(act).max(0)))

    for ids in texts:
        row = np.asarray([ids], dtype=np.int64)
        model.hidden_states(row, np.ones_like(row), observe)
    return [
        (
            np.max([s[0] for s in per], axis=0),
            np.max([s[1] for s in per], axis=0),
            np.max([s[2] for s in per], axis=0),
        )
        for per in seen
    ]


def _smoothing(x_max: F32, w: F32) -> F32:
    """SmoothQuant's per-input-channel ``s = sqrt(max|x| / max|w|)`` (median 1) for ``x @ w``."""
    tiny = np.float32(1e-6)
    s = np.sqrt(np.maximum(x_max, tiny) / np.maximum(np.abs(w).max(axis=1), tiny))
    out: F32 = (s / np.median(s)).astype(np.float32)
    return out


def _linear(b: Builder, x: str, w: F32, name: str, precision: str, x_max: F32 | None) -> str:
    """``x @ w`` (no bias); int8: quantised weights, ``x`` smoothed when ``x_max`` is given."""
    if precision == "float32":
        return b.node("MatMul", [x, b.init(name, w)], f"{name}.y")
    if x_max is not None:
        s = _smoothing(x_max, w)
        x = b.node("Mul", [x, b.init(f"{name}.inv_s", 1.0 / s)], f"{name}.x")
        w = w * s[:, None]
    q, scale = quantize_columns(w)
    ins = [x, b.init(name, q), b.init(f"{name}.scale", scale)]
    return b.node("DynamicQuantizeMatMul", ins, f"{name}.y", MS_DOMAIN)


def _norm(b: Builder, x: str, bias: F32, skip: str, g: F32, beta: F32, name: str) -> str:
    """LayerNorm(x + bias + skip) in plain element-wise ops (see ``_onnx_graph._skip_norm``)."""
    s = b.node("Add", [x, b.init(f"{name}.bias", bias)], f"{name}.xb")
    s = b.node("Add", [s, skip], f"{name}.sum")
    mean = b.node("ReduceMean", [s], f"{name}.mean", axes=[-1], keepdims=1)
    d = b.node("Sub", [s, mean], f"{name}.d")
    var = b.node(
        "ReduceMean", [b.node("Mul", [d, d], f"{name}.d2")], f"{name}.var", axes=[-1], keepdims=1
    )
    eps = b.init("ln_eps", np.array(LN_EPS, np.float32))
    std = b.node("Sqrt", [b.node("Add", [var, eps], f"{name}.var_eps")], f"{name}.std")
    n = b.node("Div", [d, std], f"{name}.n")
    scaled = b.node("Mul", [n, b.init(f"{name}.g", g)], f"{name}.scaled")
    return b.node("Add", [scaled, b.init(f"{name}.b", beta)], name)


def _layer(
    b: Builder,
    w: Mapping[str, F32],
    i: int,
    h: str,
    heads: int,
    precision: str,
    maxima: tuple[F32, F32, F32] | None,
) -> str:
    p = f"encoder.layer.{i}."
    a = f"{p}attention.attn."
    x_max, h1_max, _ = maxima if maxima is not None else (None, None, None)
    qkv_w = np.concatenate([w[f"{a}{n}.weight"].T for n in "qkv"], axis=1)
    qkv_b = np.concatenate([w[f"{a}{n}.bias"] for n in "qkv"])
    qkv = _linear(b, h, qkv_w, f"l{i}.qkv", precision, x_max)
    parts = [f"l{i}.q", f"l{i}.k", f"l{i}.v"]
    b.nodes.append(node("Split", [qkv, "split3"], parts, axis=-1))
    ins = [*parts, b.init(f"l{i}.qkv.b", qkv_b), "mask32", "pos_bias"]
    att = b.node("MultiHeadAttention", ins, f"l{i}.att", MS_DOMAIN, num_heads=heads)
    ao = _linear(b, att, w[f"{a}o.weight"].T, f"l{i}.o", precision, None)
    h1 = _norm(
        b,
        ao,
        w[f"{a}o.bias"],
        h,
        w[f"{p}attention.LayerNorm.weight"],
        w[f"{p}attention.LayerNorm.bias"],
        f"l{i}.h1",
    )
    up_w = w[f"{p}intermediate.dense.weight"].T
    up_b = w[f"{p}intermediate.dense.bias"]
    down_w = w[f"{p}output.dense.weight"].T
    side = np.zeros(len(up_b), dtype=bool)
    if maxima is not None:
        side = maxima[2] > SPLIT_RATIO * np.percentile(maxima[2], 99)
    keep = ~side
    up = _linear(b, h1, up_w[:, keep], f"l{i}.up", precision, h1_max)
    act = b.node("BiasGelu", [up, b.init(f"l{i}.up.b", up_b[keep])], f"l{i}.act", MS_DOMAIN)
    down = _linear(b, act, down_w[keep], f"l{i}.down", precision, None)
    if side.any():
        up2 = b.node("MatMul", [h1, b.init(f"l{i}.up2", up_w[:, side])], f"l{i}.up2.y")
        act2 = b.node("BiasGelu", [up2, b.init(f"l{i}.up2.b", up_b[side])], f"l{i}.act2", MS_DOMAIN)
        down2 = b.node("MatMul", [act2, b.init(f"l{i}.down2", down_w[side])], f"l{i}.down2.y")
        down = b.node("Add", [down, down2], f"l{i}.ffn")
    return _norm(
        b,
        down,
        w[f"{p}output.dense.bias"],
        h1,
        w[f"{p}output.LayerNorm.weight"],
        w[f"{p}output.LayerNorm.bias"],
        f"l{i}.h2",
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
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}")
    maxima: Sequence[tuple[F32, F32, F32] | None] = [None] * layers
    if precision == "int8":
        if not calibration:
            raise ValueError("int8 needs calibration texts")
        maxima = channel_maxima(weights, layers, heads, calibration)
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
    b.nodes.append(
        node(
            "EmbedLayerNormalization",
            [
                "ids32",
                "",
                b.init("word_emb", w["embeddings.word_embeddings.weight"]),
                b.init("pos_emb", positions),
                "",
                b.init("emb_ln_g", w["embeddings.LayerNorm.weight"]),
                b.init("emb_ln_b", w["embeddings.LayerNorm.bias"]),
            ],
            ["h0", ""],
            MS_DOMAIN,
            epsilon=LN_EPS,
        )
    )
    h = "h0"
    for i in range(layers):
        h = _layer(b, w, i, h, heads, precision, maxima[i])
    b.node("Cast", ["attention_mask"], "maskf", to=FLOAT)
    b.node("Unsqueeze", ["maskf", b.init("axis2", np.array([2], dtype=np.int64))], "maskf3")
    b.node("Mul", [h, "maskf3"], "masked")
    b.node("ReduceSum", ["masked", one], "summed", keepdims=0)
    b.node("ReduceSum", ["maskf3", one], "count", keepdims=0)
    b.node("Div", ["summed", "count"], "pooled")
    b.node("LpNormalization", ["pooled"], "embedding", axis=-1, p=2)
    outputs: list[tuple[str, int, list[str | int]]] = [("embedding", FLOAT, ["batch", hidden])]
    if pool_weights is not None:
        pw = np.ascontiguousarray(pool_weights, dtype=np.float32)
        b.node("Gather", [b.init("pool_w", pw), "ids32"], "tokw", axis=0)
        b.node("Mul", ["tokw", "maskf"], "wmask")
        b.node("Unsqueeze", ["wmask", "axis2"], "wmask3")
        b.node("Mul", [h, "wmask3"], "wmasked")
        b.node("ReduceSum", ["wmasked", one], "wsummed", keepdims=0)
        b.node("LpNormalization", ["wsummed"], "weighted", axis=-1, p=2)
        outputs.append(("weighted", FLOAT, ["batch", hidden]))
    model = b.model(
        [("input_ids", INT64, ["batch", "seq"]), ("attention_mask", INT64, ["batch", "seq"])],
        outputs,
    )
    return model, b.arrays

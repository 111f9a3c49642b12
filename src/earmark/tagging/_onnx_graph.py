"""Build the all-MiniLM-L6-v2 ONNX graph in memory from its safetensors weights.

No ``onnx`` package and no torch: the protobuf messages are written by
:mod:`earmark.tagging._onnx_proto`, and the graph uses onnxruntime's fused CPU kernels
(``EmbedLayerNormalization``, ``Attention``, ``BiasGelu``), which is why it is faster
than a plain numpy forward pass; the layer norms are plain element-wise ops, faster here
than onnxruntime's fused one (:func:`skip_norm`). The output ``embedding`` is
the mean-pooled, L2-normalised sentence embedding, exactly as sentence-transformers
computes it (max abs difference about 2e-7). Given ``pool_weights`` (one weight per
vocabulary id), a second output ``weighted`` pools the same final token states with
those weights (``sum_t w[id_t] * mask_t * h_t``, L2-normalised) in the same pass: the
tagger's ranking pooling (SIF weights, see :mod:`earmark.tagging.embedding`). Its
difference from the numpy reference :meth:`NumpyBert.pair` is ~1e-7.

``precision="int8"`` quantises the weights of every linear layer to int8 with one scale
per output column (symmetric, in numpy, at load time); activations stay float32 and are
quantised on the fly to uint8 by onnxruntime, one range per batch (``QAttention`` after
``DynamicQuantizeLinear`` for the attention block, ``DynamicQuantizeMatMul`` for the
others). BERT activations have a few very large values that would waste most of such a
range, and in all-MiniLM-L6-v2 they sit in fixed channels (the [CLS] token's feed-forward
input and a few GELU outputs; measured in ``benchmarks/tagging.md``), whatever the text.
So the int8 graph uses constants calibrated at load time by a float32 numpy forward pass
over a few fixed sentences (:func:`activation_ranges`, ~40 ms more at load; the outliers
do not depend on the text, one sentence gives the same fidelity as 127):

- the input channels of the QKV projection and of ``intermediate.dense`` are balanced
  SmoothQuant-style: a constant ``Mul`` by ``1/s`` before the quantised matmul, ``s``
  folded into the weight rows, ``s = sqrt(max|x| / max|w|)`` per channel;
- the intermediate channels whose calibrated max is over :data:`SPLIT_RATIO` times the
  99th percentile of the channel maxima (the [CLS] ones above) go through a small float32
  side path (their columns of ``intermediate.dense``, ``BiasGelu``, their rows of
  ``output.dense``) whose output is added to the quantised one.

Why this design, and how close it stays to float32: ``benchmarks/tagging.md`` ("Design
notes moved from the code"). Per-tensor ranges span the whole batch, so int8 embeddings depend
slightly on which texts share a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from earmark.tagging._bert_numpy import NumpyBert
from earmark.tagging._onnx_proto import FLOAT, INT32, INT64, MS_DOMAIN, Builder, node

__all__ = [
    "LN_EPS",
    "PRECISIONS",
    "SPLIT_RATIO",
    "LayerRanges",
    "activation_ranges",
    "build_minilm_graph",
    "embed_norm",
    "feed_forward",
    "layer_ranges",
    "layer_tail",
    "linear",
    "observed_ranges",
    "pooled_model",
    "quantize_columns",
    "side_channels",
    "skip_norm",
    "smooth",
    "smoothing",
]

PRECISIONS = ("float32", "int8")
SPLIT_RATIO = 3.0
LN_EPS = 1e-12
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LayerRanges:
    """Calibrated max abs value per channel of the inputs of one layer's quantised matmuls.

    attention: the layer input (into the QKV projection), ``[hidden]``.
    hidden: the input of ``intermediate.dense`` (after the attention LayerNorm), ``[hidden]``.
    inner: the input of ``output.dense`` (after GELU), ``[intermediate]``.
    """

    attention: F32
    hidden: F32
    inner: F32


def quantize_columns(w: F32) -> tuple[npt.NDArray[np.int8], F32]:
    """Symmetric int8 quantisation of ``w`` (``[in, out]``), one scale per output column.

    ``w`` is approximately ``q * scale`` (``scale`` broadcast over rows); an all-zero
    column gets scale 1.
    """
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


def smoothing(x_max: F32, w: F32) -> F32:
    """SmoothQuant's per-input-channel ``s = sqrt(max|x| / max|w|)`` (median 1) for ``x @ w``."""
    tiny = np.float32(1e-6)
    s = np.sqrt(np.maximum(x_max, tiny) / np.maximum(np.abs(w).max(axis=1), tiny))
    out: F32 = (s / np.median(s)).astype(np.float32)
    return out


def smooth(b: Builder, x: str, w: F32, s: F32, name: str) -> tuple[str, F32]:
    """``x / s`` (a constant ``Mul``) and ``w`` with ``s`` folded into its rows."""
    return b.node("Mul", [x, b.init(f"{name}.inv_s", 1.0 / s)], f"{name}.x"), w * s[:, None]


def linear(b: Builder, x: str, w: F32, name: str, precision: str, x_max: F32 | None = None) -> str:
    """``x @ w`` (no bias: the following op adds it); int8: quantised weights, ``x`` first
    smoothed (:func:`smoothing`) when its calibrated channel maxima ``x_max`` are given."""
    if precision == "float32":
        return b.node("MatMul", [x, b.init(name, w)], f"{name}.y")
    if x_max is not None:
        x, w = smooth(b, x, w, smoothing(x_max, w), name)
    q, scale = quantize_columns(w)
    ins = [x, b.init(name, q), b.init(f"{name}.scale", scale)]
    return b.node("DynamicQuantizeMatMul", ins, f"{name}.y", MS_DOMAIN)


def _attention(
    b: Builder,
    h: str,
    w: F32,
    bias: F32,
    name: str,
    heads: int,
    precision: str,
    h_max: F32 | None = None,
) -> str:
    """Self-attention (QKV projection included) over ``h`` with the ``mask32`` padding mask.

    In int8, ``h_max`` (``h``'s calibrated channel ranges) smooths ``h`` first.
    """
    if precision == "float32":
        ins = [h, b.init(f"{name}.w", w), b.init(f"{name}.b", bias), "mask32"]
        return b.node("Attention", ins, f"{name}.y", MS_DOMAIN, num_heads=heads)
    if h_max is not None:
        h, w = smooth(b, h, w, smoothing(h_max, w), name)
    q, scale = quantize_columns(w)
    hq, hs, hz = f"{name}.xq", f"{name}.xscale", f"{name}.xzero"
    b.nodes.append(node("DynamicQuantizeLinear", [h], [hq, hs, hz]))
    ins = [
        hq,
        b.init(f"{name}.w", q),
        b.init(f"{name}.b", bias),
        hs,
        b.init(f"{name}.scale", scale),
        "mask32",
        hz,
    ]
    return b.node("QAttention", ins, f"{name}.y", MS_DOMAIN, num_heads=heads)


def skip_norm(
    b: Builder, x: str, bias: F32, skip: str, g: F32, beta: F32, name: str, eps: float
) -> str:
    """LayerNorm(x + bias + skip), written out in plain element-wise ops.

    onnxruntime's fused ``SkipLayerNormalization`` (and ``LayerNormalization``) took
    136-240 us for a ``[6, 25, 384]`` batch here, an ``Add`` 9 us; these ten plain ops take
    ~50 us for the same result (float32 embeddings equal to 1e-8). The 12 norms were ~27%
    of the encoder's kernel time; a 5-minute transcript went from 48.1 / 51.9 ms (best /
    median) to 41.2 / 45.6 ms in one interleaved run (``benchmarks/tagging.md``).
    """
    s = b.node("Add", [x, b.init(f"{name}.bias", bias)], f"{name}.xb")
    s = b.node("Add", [s, skip], f"{name}.sum")
    mean = b.node("ReduceMean", [s], f"{name}.mean", axes=[-1], keepdims=1)
    d = b.node("Sub", [s, mean], f"{name}.d")
    var = b.node(
        "ReduceMean", [b.node("Mul", [d, d], f"{name}.d2")], f"{name}.var", axes=[-1], keepdims=1
    )
    eps_init = b.init("ln_eps", np.array(eps, np.float32))
    std = b.node("Sqrt", [b.node("Add", [var, eps_init], f"{name}.var_eps")], f"{name}.std")
    n = b.node("Div", [d, std], f"{name}.n")
    scaled = b.node("Mul", [n, b.init(f"{name}.g", g)], f"{name}.scaled")
    return b.node("Add", [scaled, b.init(f"{name}.b", beta)], name)


def side_channels(inner_max: F32 | None, size: int) -> npt.NDArray[np.bool_]:
    """The intermediate channels of the float32 side path: calibrated max over
    :data:`SPLIT_RATIO` times the 99th percentile of the channel maxima (none uncalibrated)."""
    if inner_max is None:
        return np.zeros(size, dtype=bool)
    out: npt.NDArray[np.bool_] = inner_max > SPLIT_RATIO * np.percentile(inner_max, 99)
    return out


def feed_forward(
    b: Builder,
    h1: str,
    w: Mapping[str, F32],
    p: str,
    i: int,
    precision: str,
    side: npt.NDArray[np.bool_],
    s: F32 | None = None,
) -> str:
    """The feed-forward block of layer ``i`` (prefix ``p``) on ``h1``, without the output bias.

    ``s``: the smoothing of ``h1`` (int8); ``side``: the intermediate channels that go
    through a float32 side path (:func:`side_channels`), added to the quantised output.
    """
    up_w = w[f"{p}intermediate.dense.weight"].T
    up_b = w[f"{p}intermediate.dense.bias"]
    down_w = w[f"{p}output.dense.weight"].T
    keep = ~side
    x, kept_w = h1, up_w[:, keep]
    if s is not None:
        x, kept_w = smooth(b, h1, kept_w, s, f"l{i}.up")
    up = linear(b, x, kept_w, f"l{i}.up", precision)
    act = b.node("BiasGelu", [up, b.init(f"l{i}.up.b", up_b[keep])], f"l{i}.act", MS_DOMAIN)
    down = linear(b, act, down_w[keep], f"l{i}.down", precision)
    if not side.any():
        return down
    up2 = b.node("MatMul", [h1, b.init(f"l{i}.up2", up_w[:, side])], f"l{i}.up2.y")
    act2 = b.node("BiasGelu", [up2, b.init(f"l{i}.up2.b", up_b[side])], f"l{i}.act2", MS_DOMAIN)
    down2 = b.node("MatMul", [act2, b.init(f"l{i}.down2", down_w[side])], f"l{i}.down2.y")
    return b.node("Add", [down, down2], f"l{i}.ffn")


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
    qkv = ("query", "key", "value")
    qkv_w = np.concatenate([w[f"{p}attention.self.{n}.weight"].T for n in qkv], axis=1)
    qkv_b = np.concatenate([w[f"{p}attention.self.{n}.bias"] for n in qkv])
    h_max = None if ranges is None else ranges.attention
    att = _attention(b, h, qkv_w, qkv_b, f"l{i}.qkv", heads, precision, h_max)
    return layer_tail(
        b,
        w,
        i,
        h,
        att,
        f"{p}attention.output.dense",
        f"{p}attention.output.LayerNorm",
        f"l{i}.ao",
        precision,
        ranges,
        LN_EPS,
        smooth_kept=False,
    )


def layer_tail(
    b: Builder,
    w: Mapping[str, F32],
    i: int,
    h: str,
    att: str,
    attn_out: str,
    attn_norm: str,
    ao_name: str,
    precision: str,
    ranges: LayerRanges | None,
    eps: float,
    *,
    smooth_kept: bool,
) -> str:
    """Layer ``i`` after its self-attention ``att`` over ``h``: the attention output
    projection (weights ``attn_out``, node ``ao_name``), the residual LayerNorm
    (``attn_norm``), the feed-forward block and the output LayerNorm.

    int8 smooths the feed-forward input over the columns of the up projection that the
    side path leaves (``smooth_kept``, MPNet) or over all of them (MiniLM).
    """
    p = f"encoder.layer.{i}."
    ao = linear(b, att, w[f"{attn_out}.weight"].T, ao_name, precision)
    h1 = skip_norm(
        b,
        ao,
        w[f"{attn_out}.bias"],
        h,
        w[f"{attn_norm}.weight"],
        w[f"{attn_norm}.bias"],
        f"l{i}.h1",
        eps,
    )
    up_w = w[f"{p}intermediate.dense.weight"].T
    side = side_channels(None if ranges is None else ranges.inner, up_w.shape[1])
    s = None
    if ranges is not None:
        s = smoothing(ranges.hidden, up_w[:, ~side] if smooth_kept else up_w)
    down = feed_forward(b, h1, w, p, i, precision, side, s)
    return skip_norm(
        b,
        down,
        w[f"{p}output.dense.bias"],
        h1,
        w[f"{p}output.LayerNorm.weight"],
        w[f"{p}output.LayerNorm.bias"],
        f"l{i}.h2",
        eps,
    )


def activation_ranges(
    weights: Mapping[str, F32], layers: int, heads: int, texts: Sequence[Sequence[int]]
) -> list[LayerRanges]:
    """Per layer, the max abs value of each channel of its quantised matmuls' inputs.

    The float32 numpy reference forward pass (:class:`NumpyBert`, the one source of truth
    for the model's arithmetic) run over ``texts`` (token id lists, one at a time so no
    padding enters), observed at each layer: the calibration of the int8 graph.
    """
    return observed_ranges(NumpyBert(weights, layers, heads), layers, texts)


def observed_ranges(
    model: NumpyBert, layers: int, texts: Sequence[Sequence[int]]
) -> list[LayerRanges]:
    """:func:`activation_ranges` with any numpy reference ``model`` (BERT or MPNet)."""
    maxima: list[list[F32]] = [[] for _ in range(layers)]

    def observe(layer: int, x: F32, h1: F32, act: F32) -> None:
        maxima[layer].append(np.stack([np.abs(x).max(axis=0), np.abs(h1).max(axis=0)]))
        maxima[layer].append(np.abs(act).max(axis=0))

    for ids in texts:
        row = np.asarray([ids], dtype=np.int64)
        model.hidden_states(row, np.ones_like(row), observe)
    ranges = []
    for per_text in maxima:
        inputs = np.max(np.stack(per_text[0::2]), axis=0)
        inner = np.max(np.stack(per_text[1::2]), axis=0)
        ranges.append(LayerRanges(inputs[0], inputs[1], inner))
    return ranges


def layer_ranges(
    precision: str,
    calibration: Sequence[Sequence[int]],
    layers: int,
    calibrate: Callable[[], list[LayerRanges]],
) -> list[LayerRanges | None]:
    """Each layer's calibrated ranges in int8 (``calibrate()``), ``None`` in float32."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}")
    if precision != "int8":
        return [None] * layers
    if not calibration:
        raise ValueError("int8 needs calibration texts")
    return list(calibrate())


def embed_norm(b: Builder, w: Mapping[str, F32], positions: F32, eps: float) -> str:
    """The fused word + position embeddings and their LayerNorm of ``ids32``: ``h0``."""
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
            epsilon=eps,
        )
    )
    return "h0"


def pooled_model(
    b: Builder, h: str, hidden: int, pool_weights: F32 | None, axis1: str = "axis1"
) -> tuple[bytes, dict[str, npt.NDArray[np.generic]]]:
    """Mean pooling + L2 normalisation of the token states ``h`` (output ``embedding``),
    the token-weighted pooling (output ``weighted``) with ``pool_weights``, and the model.

    ``axis1``: the name of the int64 ``[1]`` initializer (declared here unless it is).
    """
    b.node("Cast", ["attention_mask"], "maskf", to=FLOAT)
    b.node("Unsqueeze", ["maskf", b.init("axis2", np.array([2], dtype=np.int64))], "maskf3")
    b.node("Mul", [h, "maskf3"], "masked")
    axis1 = b.init(axis1, np.array([1], dtype=np.int64))
    b.node("ReduceSum", ["masked", axis1], "summed", keepdims=0)
    b.node("ReduceSum", ["maskf3", axis1], "count", keepdims=0)
    b.node("Div", ["summed", "count"], "pooled")
    b.node("LpNormalization", ["pooled"], "embedding", axis=-1, p=2)
    outputs: list[tuple[str, int, list[str | int]]] = [("embedding", FLOAT, ["batch", hidden])]
    if pool_weights is not None:
        table = np.ascontiguousarray(pool_weights, dtype=np.float32)
        b.node("Gather", [b.init("pool_w", table), "ids32"], "tokw", axis=0)
        b.node("Mul", ["tokw", "maskf"], "wmask")
        b.node("Unsqueeze", ["wmask", "axis2"], "wmask3")
        b.node("Mul", [h, "wmask3"], "wmasked")
        b.node("ReduceSum", ["wmasked", axis1], "wsummed", keepdims=0)
        b.node("LpNormalization", ["wsummed"], "weighted", axis=-1, p=2)
        outputs.append(("weighted", FLOAT, ["batch", hidden]))
    model = b.model(
        [("input_ids", INT64, ["batch", "seq"]), ("attention_mask", INT64, ["batch", "seq"])],
        outputs,
    )
    return model, b.arrays


def build_minilm_graph(
    weights: Mapping[str, F32],
    layers: int,
    heads: int,
    hidden: int,
    precision: str = "float32",
    calibration: Sequence[Sequence[int]] = (),
    pool_weights: F32 | None = None,
) -> tuple[bytes, dict[str, npt.NDArray[np.generic]]]:
    """Serialise a BERT encoder + mean pooling + L2 normalisation as ONNX model bytes.

    Inputs ``input_ids`` and ``attention_mask`` (int64, ``[batch, seq]``); output
    ``embedding`` (float32, ``[batch, hidden]``); with ``pool_weights`` (float32,
    ``[vocab]``) a second output ``weighted``, the L2-normalised sum of the final token
    states weighted by ``pool_weights[input_ids]`` (padding excluded). Token type ids
    are always 0, so the type-0 embedding is folded into the position embeddings.
    ``precision`` is one of :data:`PRECISIONS` (int8: quantised linear-layer weights, see
    the module docstring); int8 needs ``calibration``, a few token id lists (e.g. short sentences) to calibrate
    its activation scales on.

    The weights are declared in the graph without data and returned beside it, to be
    passed with ``SessionOptions.add_external_initializers`` (they must outlive the
    session): this avoids serialising and copying ~90 MB.
    """
    ranges = layer_ranges(
        precision,
        calibration,
        layers,
        lambda: activation_ranges(weights, layers, heads, calibration),
    )
    b = Builder()
    w = weights
    b.node("Cast", ["attention_mask"], "mask32", to=INT32)
    b.node("Cast", ["input_ids"], "ids32", to=INT32)
    positions = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    h = embed_norm(b, w, positions, LN_EPS)
    for i in range(layers):
        h = _layer(b, w, i, h, heads, precision, ranges[i])
    return pooled_model(b, h, hidden, pool_weights)

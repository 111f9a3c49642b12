"""Build the all-MiniLM-L6-v2 ONNX graph in memory from its safetensors weights.

No ``onnx`` package and no torch: the few protobuf messages an ONNX model needs are
written by hand (ONNX's ``onnx.proto`` field numbers), and the graph uses onnxruntime's
fused CPU kernels (``EmbedLayerNormalization``, ``Attention``, ``SkipLayerNormalization``,
``BiasGelu``), which is why it is faster than a plain numpy forward pass. The output is
the mean-pooled, L2-normalised sentence embedding, exactly as sentence-transformers
computes it (max abs difference about 2e-7).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

__all__ = ["build_minilm_graph"]

_MS = "com.microsoft"
_FLOAT, _INT32, _INT64 = 1, 6, 7
_DTYPES = {np.dtype(np.float32): _FLOAT, np.dtype(np.int32): _INT32, np.dtype(np.int64): _INT64}


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(num: int, data: bytes | str) -> bytes:
    """A length-delimited field (strings, bytes, sub-messages)."""
    raw = data.encode() if isinstance(data, str) else data
    return _varint(num << 3 | 2) + _varint(len(raw)) + raw


def _int(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(value)


def _tensor(name: str, array: npt.NDArray[np.generic], with_data: bool) -> bytes:
    """A TensorProto; without data it only declares an initializer supplied at session time."""
    dims = b"".join(_int(1, d) for d in array.shape)
    body = dims + _int(2, _DTYPES[array.dtype]) + _field(8, name)
    if with_data:
        return body + _field(9, np.ascontiguousarray(array).tobytes())
    external = [("location", "memory"), ("offset", "0"), ("length", str(array.nbytes))]
    entries = b"".join(_field(13, _field(1, k) + _field(2, v)) for k, v in external)
    return body + entries + _int(14, 1)


def _attribute(name: str, value: int | float) -> bytes:
    if isinstance(value, float):
        return _field(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int(20, 1)
    return _field(1, name) + _int(3, value) + _int(20, 2)


def _node(
    op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs: int | float
) -> bytes:
    body = b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs)
    body += _field(4, op) + b"".join(_field(5, _attribute(k, v)) for k, v in attrs.items())
    return body + (_field(7, domain) if domain else b"")


def _value_info(name: str, elem_type: int, dims: list[str | int]) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    return _field(1, name) + _field(2, _field(1, _int(1, elem_type) + _field(2, shape)))


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.inits: list[bytes] = []
        self.arrays: dict[str, npt.NDArray[np.float32]] = {}

    def init(self, name: str, array: npt.NDArray[np.generic]) -> str:
        """Declare a weight; its data is handed to onnxruntime separately (no copy)."""
        if array.dtype == np.int64:
            self.inits.append(_tensor(name, array, with_data=True))
            return name
        arr = np.ascontiguousarray(array, dtype=np.float32)
        self.arrays[name] = arr
        self.inits.append(_tensor(name, arr, with_data=False))
        return name

    def node(
        self, op: str, ins: list[str], out: str, domain: str = "", **attrs: int | float
    ) -> str:
        self.nodes.append(_node(op, ins, [out], domain, **attrs))
        return out


def _layer(
    b: _Builder, w: Mapping[str, npt.NDArray[np.float32]], i: int, h: str, heads: int
) -> str:
    p = f"encoder.layer.{i}."
    qkv = ("query", "key", "value")
    qkv_w = np.concatenate([w[f"{p}attention.self.{n}.weight"].T for n in qkv], axis=1)
    qkv_b = np.concatenate([w[f"{p}attention.self.{n}.bias"] for n in qkv])
    att = b.node(
        "Attention",
        [h, b.init(f"l{i}.qkv_w", qkv_w), b.init(f"l{i}.qkv_b", qkv_b), "mask32"],
        f"l{i}.att",
        _MS,
        num_heads=heads,
    )
    ao = b.node(
        "MatMul", [att, b.init(f"l{i}.ao_w", w[f"{p}attention.output.dense.weight"].T)], f"l{i}.ao"
    )
    h1 = b.node(
        "SkipLayerNormalization",
        [
            ao,
            h,
            b.init(f"l{i}.ln1_g", w[f"{p}attention.output.LayerNorm.weight"]),
            b.init(f"l{i}.ln1_b", w[f"{p}attention.output.LayerNorm.bias"]),
            b.init(f"l{i}.ao_b", w[f"{p}attention.output.dense.bias"]),
        ],
        f"l{i}.h1",
        _MS,
        epsilon=1e-12,
    )
    up = b.node(
        "MatMul", [h1, b.init(f"l{i}.i_w", w[f"{p}intermediate.dense.weight"].T)], f"l{i}.up"
    )
    act = b.node(
        "BiasGelu", [up, b.init(f"l{i}.i_b", w[f"{p}intermediate.dense.bias"])], f"l{i}.act", _MS
    )
    down = b.node(
        "MatMul", [act, b.init(f"l{i}.o_w", w[f"{p}output.dense.weight"].T)], f"l{i}.down"
    )
    return b.node(
        "SkipLayerNormalization",
        [
            down,
            h1,
            b.init(f"l{i}.ln2_g", w[f"{p}output.LayerNorm.weight"]),
            b.init(f"l{i}.ln2_b", w[f"{p}output.LayerNorm.bias"]),
            b.init(f"l{i}.o_b", w[f"{p}output.dense.bias"]),
        ],
        f"l{i}.h2",
        _MS,
        epsilon=1e-12,
    )


def build_minilm_graph(
    weights: Mapping[str, npt.NDArray[np.float32]], layers: int, heads: int, hidden: int
) -> tuple[bytes, dict[str, npt.NDArray[np.float32]]]:
    """Serialise a BERT encoder + mean pooling + L2 normalisation as ONNX model bytes.

    Inputs ``input_ids`` and ``attention_mask`` (int64, ``[batch, seq]``); output
    ``embedding`` (float32, ``[batch, hidden]``). Token type ids are always 0, so the
    type-0 embedding is folded into the position embeddings.

    The weights are declared in the graph without data and returned beside it, to be
    passed with ``SessionOptions.add_initializer`` (they must outlive the session): this
    avoids serialising and copying ~90 MB.
    """
    b = _Builder()
    w = weights
    b.node("Cast", ["attention_mask"], "mask32", to=_INT32)
    b.node("Cast", ["input_ids"], "ids32", to=_INT32)
    positions = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    b.nodes.append(
        _node(
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
            _MS,
            epsilon=1e-12,
        )
    )
    h = "h0"
    for i in range(layers):
        h = _layer(b, w, i, h, heads)
    b.node("Cast", ["attention_mask"], "maskf", to=_FLOAT)
    b.node("Unsqueeze", ["maskf", b.init("axis2", np.array([2], dtype=np.int64))], "maskf3")
    b.node("Mul", [h, "maskf3"], "masked")
    axis1 = b.init("axis1", np.array([1], dtype=np.int64))
    b.node("ReduceSum", ["masked", axis1], "summed", keepdims=0)
    b.node("ReduceSum", ["maskf3", axis1], "count", keepdims=0)
    b.node("Div", ["summed", "count"], "pooled")
    b.node("LpNormalization", ["pooled"], "embedding", axis=-1, p=2)
    graph = b"".join(_field(1, n) for n in b.nodes) + _field(2, "minilm")
    graph += b"".join(_field(5, t) for t in b.inits)
    graph += _field(11, _value_info("input_ids", _INT64, ["batch", "seq"]))
    graph += _field(11, _value_info("attention_mask", _INT64, ["batch", "seq"]))
    graph += _field(12, _value_info("embedding", _FLOAT, ["batch", hidden]))
    opsets = _field(8, _field(1, "") + _int(2, 17)) + _field(8, _field(1, _MS) + _int(2, 1))
    return _int(1, 8) + _field(2, "earmark") + _field(7, graph) + opsets, b.arrays

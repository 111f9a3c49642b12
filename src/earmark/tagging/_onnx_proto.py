"""Just enough of ONNX's protobuf format to write a model graph, without the ``onnx`` package.

The messages (``ModelProto``, ``GraphProto``, ``NodeProto``, ``TensorProto``, ...) are
written by hand with ``onnx.proto``'s field numbers. Weights are declared without data
(``data_location = EXTERNAL``, location ``memory``) and handed to onnxruntime beside the
model with ``SessionOptions.add_external_initializers``, so ~90 MB is never serialised.
"""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt

__all__ = ["FLOAT", "INT32", "INT64", "MS_DOMAIN", "Builder", "node"]

MS_DOMAIN = "com.microsoft"
FLOAT, UINT8, INT8, INT32, INT64 = 1, 2, 3, 6, 7
_DTYPES = {
    np.dtype(np.float32): FLOAT,
    np.dtype(np.uint8): UINT8,
    np.dtype(np.int8): INT8,
    np.dtype(np.int32): INT32,
    np.dtype(np.int64): INT64,
}


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


def _attribute(name: str, value: int | float | list[int]) -> bytes:
    if isinstance(value, list):
        return _field(1, name) + b"".join(_int(8, v) for v in value) + _int(20, 7)
    if isinstance(value, float):
        return _field(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int(20, 1)
    return _field(1, name) + _int(3, value) + _int(20, 2)


def node(
    op: str,
    inputs: list[str],
    outputs: list[str],
    domain: str = "",
    **attrs: int | float | list[int],
) -> bytes:
    """A NodeProto; an empty input or output name marks an omitted optional one."""
    body = b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs)
    body += _field(4, op) + b"".join(_field(5, _attribute(k, v)) for k, v in attrs.items())
    return body + (_field(7, domain) if domain else b"")


def _value_info(name: str, elem_type: int, dims: list[str | int]) -> bytes:
    shape = b"".join(_field(1, _field(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    return _field(1, name) + _field(2, _field(1, _int(1, elem_type) + _field(2, shape)))


class Builder:
    """Collects nodes and initializers; the weight arrays are kept for onnxruntime."""

    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.inits: list[bytes] = []
        self.arrays: dict[str, npt.NDArray[np.generic]] = {}
        self.declared: set[str] = set()

    def init(self, name: str, array: npt.NDArray[np.generic]) -> str:
        """Declare a weight (once per name: a repeated name reuses the first declaration).

        float32, int8 and uint8 data goes to onnxruntime beside the model, uncopied.
        """
        if name in self.declared:
            return name
        self.declared.add(name)
        if array.dtype in (np.int64, np.int32):
            self.inits.append(_tensor(name, array, with_data=True))
            return name
        if array.dtype not in (np.int8, np.uint8):
            array = array.astype(np.float32, copy=False)
        arr = np.ascontiguousarray(array)
        self.arrays[name] = arr
        self.inits.append(_tensor(name, arr, with_data=False))
        return name

    def node(
        self, op: str, ins: list[str], out: str, domain: str = "", **attrs: int | float | list[int]
    ) -> str:
        self.nodes.append(node(op, ins, [out], domain, **attrs))
        return out

    def model(
        self,
        inputs: list[tuple[str, int, list[str | int]]],
        outputs: list[tuple[str, int, list[str | int]]],
    ) -> bytes:
        """The serialised ModelProto (IR version 8, opset 17 plus com.microsoft 1)."""
        graph = b"".join(_field(1, n) for n in self.nodes) + _field(2, "graph")
        graph += b"".join(_field(5, t) for t in self.inits)
        graph += b"".join(_field(11, _value_info(*i)) for i in inputs)
        graph += b"".join(_field(12, _value_info(*o)) for o in outputs)
        opsets = _field(8, _field(1, "") + _int(2, 17)) + _field(
            8, _field(1, MS_DOMAIN) + _int(2, 1)
        )
        return _int(1, 8) + _field(2, "earmark") + _field(7, graph) + opsets

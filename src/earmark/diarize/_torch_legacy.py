"""Read the tensors of a legacy (non-zip) torch checkpoint without torch.

A legacy ``torch.save`` file is five things one after another: three small pickles (a magic
number, the protocol version, system info), the pickled object, where each tensor is a call
of ``torch._utils._rebuild_tensor_v2`` on a storage named by a persistent id, then a pickled
list of storage keys, and for each key the raw storage: an int64 element count and the
little-endian elements. Only float32 storages (``torch.FloatStorage``) are read: that is all a
float model holds. Nothing from torch is imported or executed; any other global in the pickle
is refused.
"""

from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["load_legacy_state"]

_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
}


@dataclass
class _Storage:
    key: str
    dtype: np.dtype[Any]
    numel: int
    data: npt.NDArray[Any] | None = None


@dataclass
class _Tensor:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> npt.NDArray[Any]:
        data = self.storage.data
        if data is None:
            raise ValueError(f"storage {self.storage.key} was never read")
        if not self.shape:
            return np.array(data[self.offset])
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :],
            shape=self.shape,
            strides=tuple(s * item for s in self.stride),
            writeable=False,
        )
        return np.ascontiguousarray(view)


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


def _rebuild_tensor_v2(
    storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _Tensor:
    return _Tensor(storage, offset, tuple(shape), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a model file")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        _, storage_type, key, _location, numel, view = pid[:6]
        if view is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        if key not in self.storages:
            self.storages[key] = _Storage(key, _DTYPES[storage_type.name], int(numel))
        return self.storages[key]


def load_legacy_state(path: Path) -> dict[str, Any]:
    """The object saved in ``path``, with every tensor turned into a numpy array."""
    with open(path, "rb") as f:
        if pickle.load(f) != _MAGIC:
            raise ValueError(f"{path} is not a legacy torch file")
        pickle.load(f)  # protocol version
        info = pickle.load(f)
        if isinstance(info, dict) and not info.get("little_endian", True):
            raise ValueError(f"{path} was saved big-endian")
        unpickler = _Unpickler(f)
        result = unpickler.load()
        keys = pickle.load(f)
        for key in keys:
            storage = unpickler.storages[key]
            count = int(np.frombuffer(f.read(8), dtype="<i8")[0])
            raw = f.read(count * storage.dtype.itemsize)
            if count != storage.numel or len(raw) != count * storage.dtype.itemsize:
                raise ValueError(f"{path}: storage {key} is truncated")
            storage.data = np.frombuffer(raw, dtype=storage.dtype)
    state: dict[str, Any] = _convert(result)
    return state


def _convert(value: Any) -> Any:
    if isinstance(value, _Tensor):
        return value.array()
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_convert(v) for v in value)
    return value

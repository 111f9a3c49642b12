"""Keep numpy's BLAS single-threaded while the tagger runs beside onnxruntime.

After each multi-threaded call, OpenBLAS's worker threads busy-wait for more work. The
tagger's own numpy products are small (tens of rows against the tag and neutral
matrices) but big enough for OpenBLAS to use its threads, and those spinning threads
then took CPU from onnxruntime's two encoder threads on the next batch: a 5-minute
transcript took 61 ms instead of 49 ms on a 2-core box (``benchmarks/tagging.md``).
One BLAS thread costs nothing at these sizes. The limit is process-wide while it holds
(OpenBLAS has one setting), restored on exit; without ``threadpoolctl`` it does nothing.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

__all__ = ["one_blas_thread"]


@functools.lru_cache(maxsize=1)
def _controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Within the block, BLAS libraries loaded by numpy use one thread."""
    controller = _controller()
    if controller is None:  # pragma: no cover
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield

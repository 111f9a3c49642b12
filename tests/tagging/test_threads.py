"""The BLAS thread limit the tagger holds while it runs beside onnxruntime."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

from earmark.tagging._threads import one_blas_thread


def _blas_threads() -> list[int]:
    return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]


def test_blas_is_single_threaded_inside_and_restored_after() -> None:
    np.ones((64, 64)) @ np.ones((64, 64))  # make sure numpy's BLAS is loaded
    before = _blas_threads()
    assert before, "numpy should load a BLAS library"
    with one_blas_thread():
        assert _blas_threads() == [1] * len(before)
    assert _blas_threads() == before

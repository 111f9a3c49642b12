"""A plain numpy MPNet forward pass (all-mpnet-base-v2): the reference for the ONNX graph.

MPNet is a BERT-shaped encoder with three differences, all reproduced here as Hugging
Face's ``MPNetModel`` computes them:

- position ids start at ``padding_idx + 1`` (2), RoBERTa style: token ``t`` of a
  right-padded row has position ``t + 2`` (padding keeps position 1);
- there are no token type embeddings;
- every layer adds the same learned relative position bias to its attention scores:
  ``encoder.relative_attention_bias`` (``[32 buckets, heads]``) indexed by the T5-style
  bucket of ``key position - query position`` (:func:`relative_buckets`: 8 exact
  distances each way, then log-spaced up to 128, one bucket per sign beyond);
- LayerNorm epsilon 1e-5 (BERT's is 1e-12).

Sentence embedding as sentence-transformers does for all-mpnet-base-v2: mean of the last
layer's token states over the attention mask, L2-normalised. Batched, float32.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from earmark.tagging._bert_numpy import NumpyBert, layer_weights

__all__ = ["LN_EPS", "PAD_ID", "NumpyMPNet", "position_bias", "relative_buckets"]

F32 = npt.NDArray[np.float32]
PAD_ID = 1
LN_EPS = 1e-5
NUM_BUCKETS = 32
MAX_DISTANCE = 128


def relative_buckets(seq: int) -> npt.NDArray[np.int64]:
    """``[seq, seq]`` bucket of ``key - query`` for every (query, key) pair.

    ``MPNetEncoder.relative_position_bucket`` written in numpy, with its float32 log (the
    bucket edges at distances 16, 32, 64 and 128 depend on that rounding).
    """
    pos = np.arange(seq, dtype=np.int64)
    n = -(pos[None, :] - pos[:, None])  # query - key
    half = NUM_BUCKETS // 2
    ret = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    max_exact = half // 2
    ratio = (np.maximum(n, 1).astype(np.float32) / np.float32(max_exact)).astype(np.float32)
    scaled = np.log(ratio) / np.float32(math.log(MAX_DISTANCE / max_exact))
    large = max_exact + (scaled * np.float32(half - max_exact)).astype(np.float32).astype(np.int64)
    large = np.minimum(large, half - 1)
    out: npt.NDArray[np.int64] = ret + np.where(n < max_exact, n, large)
    return out


def position_bias(table: F32, seq: int) -> F32:
    """The ``[heads, seq, seq]`` attention bias from the ``[buckets, heads]`` table."""
    out: F32 = np.ascontiguousarray(table[relative_buckets(seq)].transpose(2, 0, 1))
    return out


class NumpyMPNet(NumpyBert):
    """MPNet encoder + mean pooling + L2 normalisation over safetensors weights.

    :class:`~earmark.tagging._bert_numpy.NumpyBert`'s layers and pooling with MPNet's
    positions, relative position bias, weight names and LayerNorm epsilon.
    ``pool_weights``: optional ``[vocab]`` token weights for :meth:`pair`'s second pooling.
    """

    eps = LN_EPS

    def __init__(
        self,
        weights: Mapping[str, F32],
        layers: int,
        heads: int,
        pool_weights: F32 | None = None,
    ) -> None:
        super().__init__(weights, layers, heads, pool_weights)
        self.rel_table = weights["encoder.relative_attention_bias.weight"]

    def _position_table(self, w: Mapping[str, F32]) -> F32:
        return w["embeddings.position_embeddings.weight"]  # no token type embeddings

    def _layer_weights(self, w: Mapping[str, F32], p: str) -> dict[str, F32]:
        a = f"{p}attention.attn."
        qkv = [f"{a}{n}" for n in "qkv"]
        return layer_weights(w, p, qkv, f"{a}o", f"{p}attention.LayerNorm")

    def _embeddings(self, ids: npt.NDArray[np.int64]) -> F32:
        real = (ids != PAD_ID).astype(np.int64)
        positions = np.cumsum(real, axis=1) * real + PAD_ID  # RoBERTa style, from 2
        out: F32 = self.word[ids] + self.pos[positions]
        return out

    def _attention_bias(self, mask: npt.NDArray[np.int64]) -> F32:
        out: F32 = position_bias(self.rel_table, mask.shape[1])[None] + super()._attention_bias(
            mask
        )
        return out

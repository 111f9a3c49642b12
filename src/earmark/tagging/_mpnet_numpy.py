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
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from earmark.tagging._bert_numpy import _erf

__all__ = ["LN_EPS", "PAD_ID", "NumpyMPNet", "position_bias", "relative_buckets"]

F32 = npt.NDArray[np.float32]
PAD_ID = 1
LN_EPS = 1e-5
NUM_BUCKETS = 32
MAX_DISTANCE = 128

LayerObserver = Callable[[int, F32, F32, F32], None]
"""``(layer index, layer input, state after the attention LayerNorm, GELU activations)``."""


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


def _layer_norm(x: F32, gamma: F32, beta: F32) -> F32:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    out: F32 = centred / np.sqrt(var + np.float32(LN_EPS)) * gamma + beta
    return out


class NumpyMPNet:
    """MPNet encoder + mean pooling + L2 normalisation over safetensors weights.

    ``pool_weights``: optional ``[vocab]`` token weights for :meth:`pair`'s second pooling.
    """

    def __init__(
        self,
        weights: Mapping[str, F32],
        layers: int,
        heads: int,
        pool_weights: F32 | None = None,
    ) -> None:
        w = weights
        self.heads = heads
        self.pool_weights = pool_weights
        self.word = w["embeddings.word_embeddings.weight"]
        self.pos = w["embeddings.position_embeddings.weight"]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.rel_table = w["encoder.relative_attention_bias.weight"]
        self.layers: list[dict[str, F32]] = []
        for i in range(layers):
            p = f"encoder.layer.{i}."
            qkv = ("q", "k", "v")
            self.layers.append(
                {
                    "qkv_w": np.ascontiguousarray(
                        np.concatenate([w[f"{p}attention.attn.{n}.weight"].T for n in qkv], axis=1)
                    ),
                    "qkv_b": np.concatenate([w[f"{p}attention.attn.{n}.bias"] for n in qkv]),
                    "o_w": np.ascontiguousarray(w[f"{p}attention.attn.o.weight"].T),
                    "o_b": w[f"{p}attention.attn.o.bias"],
                    "ln1_g": w[f"{p}attention.LayerNorm.weight"],
                    "ln1_b": w[f"{p}attention.LayerNorm.bias"],
                    "i_w": np.ascontiguousarray(w[f"{p}intermediate.dense.weight"].T),
                    "i_b": w[f"{p}intermediate.dense.bias"],
                    "out_w": np.ascontiguousarray(w[f"{p}output.dense.weight"].T),
                    "out_b": w[f"{p}output.dense.bias"],
                    "ln2_g": w[f"{p}output.LayerNorm.weight"],
                    "ln2_b": w[f"{p}output.LayerNorm.bias"],
                }
            )

    def hidden_states(
        self,
        ids: npt.NDArray[np.int64],
        mask: npt.NDArray[np.int64],
        observe: LayerObserver | None = None,
    ) -> F32:
        """The last layer's token states ``[batch, seq, hidden]`` of a padded batch.

        ``observe``, when given, sees each layer's input, its state after the attention
        LayerNorm and its GELU activations (rows ``[batch * seq, ...]``): the int8 graph's
        calibration reads them.
        """
        batch, seq = ids.shape
        hidden = self.word.shape[1]
        head_dim = hidden // self.heads
        real = (ids != PAD_ID).astype(np.int64)
        positions = np.cumsum(real, axis=1) * real + PAD_ID
        h = _layer_norm(self.word[ids] + self.pos[positions], *self.emb_ln)
        h = h.reshape(batch * seq, hidden)
        pad = ((mask[:, None, None, :] - 1) * np.float32(1e9)).astype(np.float32)
        bias = position_bias(self.rel_table, seq)[None] + pad
        scale = np.float32(1.0 / np.sqrt(head_dim))
        for index, lw in enumerate(self.layers):
            x = h
            qkv = (h @ lw["qkv_w"] + lw["qkv_b"]).reshape(batch, seq, 3, self.heads, head_dim)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)
            scores = (q * scale) @ k.transpose(0, 1, 3, 2) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * seq, hidden)
            h = _layer_norm(ctx @ lw["o_w"] + lw["o_b"] + h, lw["ln1_g"], lw["ln1_b"])
            up = h @ lw["i_w"] + lw["i_b"]
            act = up * np.float32(0.5) * (np.float32(1.0) + _erf(up * np.float32(0.70710678)))
            if observe is not None:
                observe(index, x, h, act)
            h = _layer_norm(act @ lw["out_w"] + lw["out_b"] + h, lw["ln2_g"], lw["ln2_b"])
        out: F32 = h.reshape(batch, seq, hidden).astype(np.float32)
        return out

    def __call__(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> F32:
        """Embed a padded batch (``ids``/``mask`` ``[batch, seq]``): unit mean-pooled rows."""
        return self.pair(ids, mask)[0]

    def pair(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> tuple[F32, F32]:
        """The mean-pooled and the token-weighted unit embeddings of a padded batch."""
        h = self.hidden_states(ids, mask)
        m = mask.astype(np.float32)[:, :, None]
        mean = _unit((h * m).sum(1) / np.maximum(m.sum(1), 1.0))
        if self.pool_weights is None:
            return mean, mean
        tw = (self.pool_weights[ids] * mask).astype(np.float32)[:, :, None]
        return mean, _unit((h * tw).sum(1))


def _unit(x: F32) -> F32:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: F32 = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out

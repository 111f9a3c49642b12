"""A plain numpy BERT forward pass: the reference and fallback for the ONNX encoder.

Batched with padding masks, float32, fused QKV projection. Slower than onnxruntime's
fused kernels (see benchmarks/tagging.md) but needs nothing beyond numpy. With
``pool_weights`` (one weight per vocabulary id) :meth:`NumpyBert.pair` also gives the
token-weighted pooling of the ONNX graph's ``weighted`` output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["LayerObserver", "NumpyBert", "layer_weights"]

F32 = npt.NDArray[np.float32]


def _erf(x: F32) -> F32:
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: enough for float32.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: F32 = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return out


def _layer_norm(x: F32, gamma: F32, beta: F32, eps: float = 1e-12) -> F32:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    out: F32 = centred / np.sqrt(var + np.float32(eps)) * gamma + beta
    return out


def layer_weights(
    w: Mapping[str, F32], p: str, qkv: Sequence[str], attn_out: str, attn_norm: str
) -> dict[str, F32]:
    """One encoder layer's weights (prefix ``p``), matrices transposed to ``[in, out]``.

    ``qkv``: the prefixes of the query, key and value projections (packed into one);
    ``attn_out``/``attn_norm``: those of the attention output projection and its LayerNorm
    (the names differ between BERT and MPNet, the feed-forward ones do not).
    """
    return {
        "qkv_w": np.ascontiguousarray(np.concatenate([w[f"{n}.weight"].T for n in qkv], axis=1)),
        "qkv_b": np.concatenate([w[f"{n}.bias"] for n in qkv]),
        "ao_w": np.ascontiguousarray(w[f"{attn_out}.weight"].T),
        "ao_b": w[f"{attn_out}.bias"],
        "ln1_g": w[f"{attn_norm}.weight"],
        "ln1_b": w[f"{attn_norm}.bias"],
        "i_w": np.ascontiguousarray(w[f"{p}intermediate.dense.weight"].T),
        "i_b": w[f"{p}intermediate.dense.bias"],
        "o_w": np.ascontiguousarray(w[f"{p}output.dense.weight"].T),
        "o_b": w[f"{p}output.dense.bias"],
        "ln2_g": w[f"{p}output.LayerNorm.weight"],
        "ln2_b": w[f"{p}output.LayerNorm.bias"],
    }


LayerObserver = Callable[[int, F32, F32, F32], None]
"""``(layer index, layer input, state after the attention LayerNorm, GELU activations)``."""


class NumpyBert:
    """BERT encoder + mean pooling + L2 normalisation over safetensors weights.

    ``pool_weights``: optional ``[vocab]`` token weights for :meth:`pair`'s second pooling.
    The embeddings, the attention bias and the weight names are methods, so that
    :class:`~earmark.tagging._mpnet_numpy.NumpyMPNet` shares the layers and the pooling.
    """

    eps = 1e-12
    """LayerNorm epsilon."""

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
        self.pos = self._position_table(w)
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [self._layer_weights(w, f"encoder.layer.{i}.") for i in range(layers)]

    def _position_table(self, w: Mapping[str, F32]) -> F32:
        # token type ids are always 0: the type-0 embedding is folded into the positions
        out: F32 = (
            w["embeddings.position_embeddings.weight"]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        return out

    def _layer_weights(self, w: Mapping[str, F32], p: str) -> dict[str, F32]:
        qkv = [f"{p}attention.self.{n}" for n in ("query", "key", "value")]
        return layer_weights(
            w, p, qkv, f"{p}attention.output.dense", f"{p}attention.output.LayerNorm"
        )

    def _embeddings(self, ids: npt.NDArray[np.int64]) -> F32:
        """Word + position embeddings ``[batch, seq, hidden]`` (before their LayerNorm)."""
        out: F32 = self.word[ids] + self.pos[: ids.shape[1]]
        return out

    def _attention_bias(self, mask: npt.NDArray[np.int64]) -> F32:
        """What is added to the attention scores: ``-1e9`` at padded keys."""
        out: F32 = ((mask[:, None, None, :] - 1) * np.float32(1e9)).astype(np.float32)
        return out

    def hidden_states(
        self,
        ids: npt.NDArray[np.int64],
        mask: npt.NDArray[np.int64],
        observe: LayerObserver | None = None,
    ) -> F32:
        """The last layer's token states ``[batch, seq, hidden]`` of a padded batch.

        ``observe(layer, x, h1, act)``, when given, sees each layer's input, its state after
        the attention block's LayerNorm and its feed-forward activations after GELU (rows
        ``[batch * seq, ...]``): the int8 graph's calibration reads them
        (:func:`earmark.tagging._onnx_graph.activation_ranges`).
        """
        batch, seq = ids.shape
        hidden = self.word.shape[1]
        head_dim = hidden // self.heads
        eps = self.eps
        h = _layer_norm(self._embeddings(ids), *self.emb_ln, eps).reshape(batch * seq, hidden)
        bias = self._attention_bias(mask)
        scale = np.float32(1.0 / np.sqrt(head_dim))
        for index, lw in enumerate(self.layers):
            x = h
            qkv = (h @ lw["qkv_w"] + lw["qkv_b"]).reshape(batch, seq, 3, self.heads, head_dim)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)
            scores = (q * scale) @ k.transpose(0, 1, 3, 2) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * seq, hidden)
            h = _layer_norm(ctx @ lw["ao_w"] + lw["ao_b"] + h, lw["ln1_g"], lw["ln1_b"], eps)
            up = h @ lw["i_w"] + lw["i_b"]
            act = (
                up * np.float32(0.5) * (np.float32(1.0) + _erf(up * np.float32(0.7071067811865476)))
            )
            if observe is not None:
                observe(index, x, h, act)
            h = _layer_norm(act @ lw["o_w"] + lw["o_b"] + h, lw["ln2_g"], lw["ln2_b"], eps)
        out: F32 = h.reshape(batch, seq, hidden).astype(np.float32)
        return out

    def __call__(
        self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64], *, normalize: bool = True
    ) -> F32:
        """Embed a padded batch: ``ids``/``mask`` are ``[batch, seq]``.

        ``normalize=False`` returns the mean-pooled vectors before L2 normalisation
        (the static encoder's distillation keeps their lengths).
        """
        pooled = _mean_pool(self.hidden_states(ids, mask), mask)
        return _unit(pooled) if normalize else pooled

    def pair(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> tuple[F32, F32]:
        """The mean-pooled and the token-weighted unit embeddings of a padded batch.

        The weighted one is ``sum_t pool_weights[id_t] * mask_t * h_t``, L2-normalised;
        without ``pool_weights`` it is the mean one.
        """
        h = self.hidden_states(ids, mask)
        mean = _unit(_mean_pool(h, mask))
        if self.pool_weights is None:
            return mean, mean
        tw = (self.pool_weights[ids] * mask).astype(np.float32)[:, :, None]
        return mean, _unit((h * tw).sum(1))


def _mean_pool(h: F32, mask: npt.NDArray[np.int64]) -> F32:
    m = mask.astype(np.float32)[:, :, None]
    out: F32 = ((h * m).sum(1) / np.maximum(m.sum(1), 1.0)).astype(np.float32)
    return out


def _unit(x: F32) -> F32:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: F32 = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out

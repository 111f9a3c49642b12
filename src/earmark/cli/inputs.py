"""Expanding the files and folders given on the command line, and planning outputs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MEDIA_SUFFIXES", "InputFile", "expand_inputs"]

MEDIA_SUFFIXES = frozenset(
    {
        ".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".webm", ".wma",
        ".mp4", ".m4v", ".mkv", ".mov", ".avi", ".mpeg", ".mpg", ".3gp", ".amr", ".aiff", ".aif",
    }
)  # fmt: skip


@dataclass(frozen=True)
class InputFile:
    """A file to process and the name its output gets (relative, without extension).

    ``literal`` holds the text itself for inputs that are not files (``--text``, stdin);
    ``path`` is then only a label such as ``text-1``.
    """

    path: Path
    output_stem: Path
    literal: str | None = None

    @classmethod
    def from_text(cls, label: str, text: str) -> InputFile:
        return cls(path=Path(label), output_stem=Path(label), literal=text)

    def output_path(self, output_dir: Path, extension: str) -> Path:
        return output_dir / self.output_stem.with_name(f"{self.output_stem.name}{extension}")


def expand_inputs(args: Iterable[str], suffixes: frozenset[str]) -> list[InputFile]:
    """Turn files and folders into a sorted, de-duplicated list of input files.

    Folders are walked recursively for files whose suffix is in ``suffixes``; files named
    directly are kept whatever their suffix (so a bad file is reported, not skipped).
    A name that does not exist is kept too, and fails with a clear error when processed.
    Outputs mirror the folder structure: ``talks/a/b.mp3`` given as ``talks`` -> ``a/b.mp3``.
    """
    seen: set[Path] = set()
    found: list[InputFile] = []
    for arg in args:
        root = Path(arg)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                if path.suffix.lower() in suffixes and not path.name.startswith("."):
                    _add(found, seen, path, path.relative_to(root))
        else:
            _add(found, seen, root, Path(root.name))
    return found


def _add(found: list[InputFile], seen: set[Path], path: Path, rel: Path) -> None:
    key = path.resolve()
    if key in seen:
        return
    seen.add(key)
    found.append(InputFile(path=path, output_stem=rel))

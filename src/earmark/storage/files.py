"""Files on disk: uploads and temporary downloads, under the data dir.

Writes go to a ``.part`` file that is renamed into place when complete, so a crash never
leaves a half-written upload that looks finished. Sizes are checked while streaming.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from types import TracebackType

from earmark.errors import PayloadTooLargeError

__all__ = ["FileStore", "SizedWriter", "too_large"]


def too_large(what: str, max_bytes: int) -> PayloadTooLargeError:
    """The error for a body over ``max_bytes``."""
    return PayloadTooLargeError(
        f"The {what} is larger than the limit of {max_bytes // 1_000_000} MB "
        "(EARMARK_MAX_UPLOAD_MB)."
    )


class SizedWriter:
    """Writes a stream of chunks to ``final`` through a ``.part`` file, up to ``max_bytes``.

    Use as a context manager: the file is committed by :meth:`commit`; leaving the block
    without committing (an error, an over-size body) removes the partial file.
    """

    def __init__(self, final: Path, max_bytes: int, what: str = "upload") -> None:
        self.final = final
        self.part = final.with_name(final.name + ".part")
        self.max_bytes = max_bytes
        self.what = what
        self.size = 0
        self._fh = open(self.part, "wb")  # noqa: SIM115 - closed in commit/abort
        self._done = False

    def write(self, chunk: bytes) -> None:
        """Append a chunk; raises :class:`PayloadTooLargeError` past the limit."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise too_large(self.what, self.max_bytes)
        self._fh.write(chunk)

    def commit(self) -> Path:
        """Flush, fsync and move the file into place."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self.part, self.final)
        self._done = True
        return self.final

    def abort(self) -> None:
        """Drop the partial file."""
        if not self._fh.closed:
            self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            self.part.unlink()
        self._done = True

    def __enter__(self) -> SizedWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            self.abort()


class FileStore:
    """The ``uploads/`` and ``tmp/`` folders of the data dir."""

    def __init__(self, root: Path) -> None:
        self.uploads = Path(root) / "uploads"
        self.tmp = Path(root) / "tmp"
        self.uploads.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def new_id() -> str:
        """A fresh, unguessable id (128 random bits, hex)."""
        return uuid.uuid4().hex

    def upload_writer(self, upload_id: str, max_bytes: int) -> SizedWriter:
        """A writer for a new upload."""
        return SizedWriter(self.uploads / upload_id, max_bytes, "upload")

    def download_writer(self, name: str, max_bytes: int) -> SizedWriter:
        """A writer for a temporary download (deleted by :meth:`discard`)."""
        return SizedWriter(self.tmp / name, max_bytes, "file at audio_url")

    def discard(self, path: Path | str | None) -> None:
        """Remove a file if it exists."""
        if path:
            with contextlib.suppress(FileNotFoundError):
                Path(path).unlink()

    def clean_tmp(self) -> None:
        """Remove leftovers of downloads interrupted by a crash."""
        for p in self.tmp.iterdir():
            with contextlib.suppress(OSError):
                p.unlink()
        for p in self.uploads.glob("*.part"):
            with contextlib.suppress(OSError):
                p.unlink()

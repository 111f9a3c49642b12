"""Upload bytes kept in PostgreSQL, for workers on machines that do not share a disk.

A file is stored as 1 MiB ``bytea`` rows of ``upload_chunks`` (streamed in with ``COPY``,
read back one chunk at a time, so memory stays flat for any size). A worker copies an
upload into its own cache folder, ``<cache_dir>/<pid>/<upload_id>``, for the length of a
job: one folder per process, so processes sharing a data dir never remove each other's
copies, and the folders of processes that died are removed at the next start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import tuple_row

__all__ = ["CHUNK_BYTES", "cache_path", "clean_cache", "read_into", "write_chunks"]

CHUNK_BYTES = 1 << 20


def write_chunks(conn: psycopg.Connection[Any], upload_id: str, path: Path) -> None:
    """Stream ``path`` into ``upload_chunks`` (inside the caller's transaction)."""
    with (
        open(path, "rb") as fh,
        conn.cursor().copy(
            "COPY upload_chunks (upload_id, n, data) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["text", "int4", "bytea"])  # binary: no hex escaping of the bytes
        for n, chunk in enumerate(iter(lambda: fh.read(CHUNK_BYTES), b"")):
            copy.write_row((upload_id, n, chunk))


def read_into(conn: psycopg.Connection[Any], upload_id: str, size: int, target: Path) -> None:
    """Write an upload's chunks to ``target`` through a ``.part`` file renamed when complete.

    Raises :class:`RuntimeError` when the database holds fewer bytes than ``size`` (the
    upload was deleted meanwhile).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")
    try:
        written = 0
        with open(part, "wb") as fh, conn.cursor(row_factory=tuple_row) as cur:
            for n in range(-(-size // CHUNK_BYTES) if size else 0):
                row = cur.execute(
                    "SELECT data FROM upload_chunks WHERE upload_id = %s AND n = %s",
                    (upload_id, n),
                ).fetchone()
                if row is None:
                    break
                fh.write(row[0])
                written += len(row[0])
        if written != size:
            raise RuntimeError(
                f"upload {upload_id}: the database holds {written} bytes of {size} "
                "(deleted while being read?)"
            )
        os.replace(part, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


def cache_path(cache_dir: Path | None, upload_id: str) -> Path | None:
    """This process's cached copy of an upload (``None`` without a cache folder)."""
    if cache_dir is None or not upload_id.isalnum():
        return None
    return Path(cache_dir) / str(os.getpid()) / upload_id


def clean_cache(cache_dir: Path | None) -> None:
    """Remove the cache folders of processes that are gone (killed mid-job)."""
    if cache_dir is None or not Path(cache_dir).is_dir():
        return
    for folder in Path(cache_dir).iterdir():
        if folder.name.isdigit() and not _alive(int(folder.name)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True

"""How long uploads live, and the sweep that removes those nobody uses.

The rule (the same on SQLite and PostgreSQL):

- an upload lives while any **live** transcript of its owner refers to it, that is one not
  deleted, whatever its status: queued and processing ones need the audio to run, and
  completed or failed ones keep it for what may read it later (a re-run with other
  options on the same ``upload_url``, ``/redacted-audio``, a player). Nothing that is not
  deleted ever loses its audio;
- ``DELETE /v2/transcript/{id}`` removes the upload when that transcript was its last live
  user (:func:`release_upload`); while others use it, it stays until the last one is
  deleted;
- an upload that no live transcript uses (never used, or left over by a delete that was
  interrupted) is removed once it is older than ``EARMARK_UPLOAD_TTL_HOURS``
  (:func:`sweep_uploads`; 0 keeps them forever). Every server runs the sweep at start and
  then periodically (:class:`UploadSweeper`); removals are conditional and idempotent, so
  several servers on one PostgreSQL database may sweep at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from earmark.storage.base import TranscriptStore, UploadRecord
from earmark.storage.files import FileStore

__all__ = ["SWEEP_EVERY_S", "UploadSweeper", "release_upload", "sweep_interval", "sweep_uploads"]

log = logging.getLogger("earmark.storage")

SWEEP_EVERY_S = 600.0
"""How often a server sweeps (shorter for TTLs under 20 minutes, see :func:`sweep_interval`)."""


def release_upload(store: TranscriptStore, files: FileStore, upload_id: str, owner: str) -> bool:
    """Remove ``owner``'s upload (index, bytes, file) unless a live transcript still uses it.

    Returns whether it was removed now. Call it after a transcript of ``owner`` that used
    the upload was deleted (another key's upload is never touched).
    """
    removed = store.remove_upload(upload_id, owner)
    if removed is None:
        return False
    _discard_file(files, removed)
    return True


def sweep_uploads(
    store: TranscriptStore, files: FileStore, ttl_hours: float, now: datetime | None = None
) -> list[str]:
    """Remove the uploads older than ``ttl_hours`` that no live transcript uses, and the
    files in ``uploads/`` that older and indexed nowhere (a crash between writing the file
    and indexing it). Returns the ids removed; nothing when ``ttl_hours <= 0``."""
    if ttl_hours <= 0:
        return []
    moment = (now or datetime.now(UTC)).astimezone(UTC) - timedelta(hours=ttl_hours)
    cutoff = moment.replace(tzinfo=None).isoformat(timespec="microseconds")
    removed: list[str] = []
    for upload in store.expired_uploads(cutoff):
        if release_upload(store, files, upload.id, upload.owner):
            removed.append(upload.id)
    for path in _old_unindexed(store, files, moment.timestamp()):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path.name)
    return removed


def sweep_interval(ttl_hours: float) -> float:
    """Seconds between sweeps: :data:`SWEEP_EVERY_S`, or half the TTL when that is shorter
    (at least a second), so an upload outlives its TTL by at most half of it."""
    return max(1.0, min(SWEEP_EVERY_S, ttl_hours * 3600 / 2))


class UploadSweeper:
    """A daemon thread that sweeps at start and then every :func:`sweep_interval`."""

    def __init__(self, store: TranscriptStore, files: FileStore, ttl_hours: float) -> None:
        self.store = store
        self.files = files
        self.ttl_hours = ttl_hours
        self.interval_s = sweep_interval(ttl_hours)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sweeping (does nothing when the TTL is 0)."""
        if self.ttl_hours <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="earmark-upload-sweep", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread (a sweep under way finishes its current removal first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                removed = sweep_uploads(self.store, self.files, self.ttl_hours)
                if removed:
                    log.info("removed %d unused upload(s) older than the TTL", len(removed))
            except Exception:  # a database hiccup: try again next round
                if self._stop.is_set():
                    return  # the store was closed under us
                log.exception("upload sweep failed")
            self._stop.wait(self.interval_s)


def _discard_file(files: FileStore, upload: UploadRecord) -> None:
    """Remove an upload's file, only if it is one of ours (named after the upload)."""
    path = Path(upload.path)
    if path.name == upload.id:
        files.discard(path)


def _old_unindexed(store: TranscriptStore, files: FileStore, before: float) -> list[Path]:
    out: list[Path] = []
    for path in files.uploads.iterdir():
        name = path.name
        if len(name) != 32 or not all(c in "0123456789abcdef" for c in name):
            continue  # .part files are the writers' (and clean_tmp's) business
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < before and store.get_upload(name) is None:
                out.append(path)
    return out

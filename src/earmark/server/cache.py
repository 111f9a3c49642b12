"""A byte-bounded LRU of rendered transcript objects.

A finished transcript changes only through a few columns (status, webhook status code,
deletion), which :meth:`TranscriptStore.version` reads with one cheap query. Polling
clients then get the stored bytes without decoding the words and re-encoding JSON.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["RenderCache"]


class RenderCache:
    """``(transcript id, owner) -> (version, JSON bytes)``, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, str], tuple[tuple[object, ...], bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], version: tuple[object, ...]) -> bytes | None:
        """The cached body if it was rendered at ``version``."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != version:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: tuple[str, str], version: tuple[object, ...], body: bytes) -> None:
        """Remember a body; evicts the least recently used ones past the size limit."""
        if len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old[1])
            self._items[key] = (version, body)
            self._size += len(body)
            while self._size > self.max_bytes and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= len(dropped)

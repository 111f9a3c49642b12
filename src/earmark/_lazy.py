"""A value built on first use, once, even when threads ask for it at the same time.

The library API keeps one default engine pool, one tagger pool and one runtime (servers
build their own from their settings); each is a :class:`Lazy` so importing earmark builds
nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Lazy"]

T = TypeVar("T")


class Lazy(Generic[T]):
    """``Lazy(make).get()`` calls ``make()`` the first time and returns that value after."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value

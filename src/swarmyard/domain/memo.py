"""A memo with a bound: values remembered by key, the oldest forgotten first.

For what is asked again and again and never changes once made (a frozen
rule set's route for one question, a published manifest version, the frame
of one bus message): no expiry is needed, only a limit on memory.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["BoundedMemo"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(Generic[K, V]):
    __slots__ = ("_entries", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V) -> V:
        """Remember `value` (forgetting the oldest entry when full); returns it."""
        if key not in self._entries and len(self._entries) >= self._size:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)

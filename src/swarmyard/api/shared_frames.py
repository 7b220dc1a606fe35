"""What every live connection makes of the same bus message, made once.

Each WebSocket and SSE connection holds its own subscription, so one
published event reaches every subscriber of the workspace as the same
bytes. Decoding them and encoding the frame again in every connection made
the fan-out cost grow by a JSON round trip per subscriber; here the first
connection to see a message decodes and frames it, the others find the
result. Keys are the message bytes themselves: Python keeps a bytes
object's hash, so a lookup costs one dict probe, and equal bytes mean an
equal frame. The decoded bodies are shared: callers only read them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["FRAMES", "SharedFrames"]

T = TypeVar("T")
_MISSING: Any = object()


class SharedFrames:
    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._entries: dict[tuple[str, bytes], Any] = {}

    def get(self, kind: str, data: bytes, make: Callable[[bytes], T]) -> T:
        """`make(data)`, remembered under (`kind`, `data`) for the recent messages."""
        key = (kind, data)
        found = self._entries.get(key, _MISSING)
        if found is _MISSING:
            if len(self._entries) >= self._size:
                # The oldest first: a message is wanted while it fans out, then never.
                del self._entries[next(iter(self._entries))]
            found = self._entries[key] = make(data)
        return found  # type: ignore[no-any-return]


# One per process: every connection of every app in it sees the same bus.
FRAMES = SharedFrames()

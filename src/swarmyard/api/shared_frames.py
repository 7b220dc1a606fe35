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

from ..domain.memo import BoundedMemo

__all__ = ["FRAMES", "SharedFrames"]

T = TypeVar("T")


class SharedFrames:
    def __init__(self, size: int = 2048) -> None:
        # A message is wanted while it fans out, then never: the oldest go first.
        self._memo: BoundedMemo[tuple[str, bytes], Any] = BoundedMemo(size)

    def get(self, kind: str, data: bytes, make: Callable[[bytes], T]) -> T:
        """`make(data)`, remembered under (`kind`, `data`) for the recent messages."""
        key = (kind, data)
        found = self._memo.get(key)
        if found is None:
            found = self._memo.put(key, make(data))
        return found  # type: ignore[no-any-return]


# One per process: every connection of every app in it sees the same bus.
FRAMES = SharedFrames()

"""A short-lived cache of what a workspace set for itself (its policies, its
installed skill packs), read at the start of every run.

Runs start far more often than these change, so each process keeps what it
read for a few seconds instead of asking the store at every start. A change
made through this process forgets its workspace's entry at once; other
processes see it within the time to live.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["WorkspaceCache"]

V = TypeVar("V")


class WorkspaceCache(Generic[V]):
    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, V]] = {}

    async def get(self, workspace_id: str, load: Callable[[], Awaitable[V]]) -> V:
        now = time.monotonic()
        hit = self._entries.get(workspace_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        value = await load()
        self._entries[workspace_id] = (now, value)
        return value

    def forget(self, workspace_id: str) -> None:
        self._entries.pop(workspace_id, None)

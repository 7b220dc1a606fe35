"""A workspace's extra authorization rules, read on every request.

They change rarely and are read constantly, so each process keeps them for
a few seconds; the process that changes them forgets its copy at once, and
others catch up within the time-to-live.
"""

from __future__ import annotations

import time

from .deps import Deps

__all__ = ["RulesCache"]


class RulesCache:
    def __init__(self, deps: Deps, *, ttl_seconds: float = 5.0) -> None:
        self._d = deps
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, str]] = {}

    async def get(self, workspace_id: str) -> str:
        hit = self._cache.get(workspace_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        async with self._d.store.unit_of_work(workspace_id) as uow:
            text = await uow.rules.get()
        self._cache[workspace_id] = (now, text)
        return text

    def forget(self, workspace_id: str) -> None:
        self._cache.pop(workspace_id, None)

"""Leader leases inside one process: embedded mode's implementation of the port.

Embedded mode runs one scheduler, so leadership is never contested there;
the adapter exists so the same leadership code runs in both modes, and so
tests can drive lease expiry with a hand-moved clock. Atomic because no
method awaits while it reads and writes the table: use it from one event
loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ._holding import Holding, check_claim

__all__ = ["MemoryLeaderLease"]


class MemoryLeaderLease:
    """The LeaderLease port on a dict; `clock` is monotonic seconds."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: dict[str, Holding] = {}

    async def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew the lease `name` for `ttl` seconds; False while another
        owner's lease runs."""
        check_claim(owner, ttl)
        now = self._clock()
        held = self._held.get(name)
        if held is not None and held.blocks(owner, now):
            return False
        self._held[name] = Holding(owner, now + ttl)
        return True

    async def release(self, name: str, owner: str) -> None:
        held = self._held.get(name)
        if held is not None and held.owner == owner:
            del self._held[name]

    async def holder(self, name: str) -> str | None:
        held = self._held.get(name)
        return held.owner if held is not None and held.runs(self._clock()) else None

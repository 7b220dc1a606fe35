"""A worker's run slots, shared by its intake loops (one per role).

A loop takes slots before it fetches, so that the loops together never
fetch more runs than the worker may run; a slot stays taken while its run
lives and comes back when the run ends (or the fetch brought less). With
room to spare each loop takes its share of the free slots and long-polls
its queue.

When slots are scarcer than roles, loops queue for them. A loop whose last
fetch found work ("eager") is served before one whose queue was empty, so
the roles that have work get the slots instead of idle roles holding them
in turn; among equals the longest-waiting goes first. A loop holding a
slot while others wait polls only briefly before passing it on.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

__all__ = ["FETCH_WAIT", "MAX_BATCH", "SHARED_WAIT", "Slots"]

MAX_BATCH = 64
FETCH_WAIT = 1.0  # a loop with room to spare: long poll
SHARED_WAIT = 0.1  # others wait for a slot: a short turn

Turn = asyncio.Future[tuple[int, float]]


class Slots:
    def __init__(self, capacity: int, sharers: Callable[[], int]) -> None:
        """`sharers()`: how many loops share the slots now."""
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, not {capacity}")
        self.capacity = capacity
        self._sharers = sharers
        self.used = 0
        self._eager: deque[Turn] = deque()
        self._idle: deque[Turn] = deque()
        self._closed = False

    @property
    def free(self) -> int:
        return self.capacity - self.used

    @property
    def waiting(self) -> int:
        return len(self._eager) + len(self._idle)

    async def take(self, *, eager: bool = False) -> tuple[int, float]:
        """Slots for one fetch and how long that fetch may wait for work;
        (0, 0.0) once closed. `eager`: the caller's last fetch found work."""
        if self._closed:
            return 0, 0.0
        ahead = self._eager if eager else self.waiting
        if self.free > 0 and not ahead:
            sharers = max(1, self._sharers())
            share = min(MAX_BATCH, max(1, self.free // sharers))
            wait = FETCH_WAIT if self.free >= sharers and not self.waiting else SHARED_WAIT
            self.used += share
            return share, wait
        turn: Turn = asyncio.get_running_loop().create_future()
        line = self._eager if eager else self._idle
        line.append(turn)
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give_back(turn.result()[0])  # handed over just as we were cancelled
            elif turn in line:
                line.remove(turn)
            raise

    def give_back(self, slots: int) -> None:
        if slots <= 0:
            return
        self.used -= slots
        while self.free > 0 and not self._closed and (turn := self._next_turn()) is not None:
            self.used += 1
            turn.set_result((1, SHARED_WAIT if self.waiting else FETCH_WAIT))

    def _next_turn(self) -> Turn | None:
        for line in (self._eager, self._idle):
            while line:
                turn = line.popleft()
                if not turn.done():
                    return turn
        return None

    def close(self) -> None:
        """Wake every queued loop with nothing: the worker is stopping."""
        self._closed = True
        while (turn := self._next_turn()) is not None:
            turn.set_result((0, 0.0))

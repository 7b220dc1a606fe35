"""Leadership: run the control-plane jobs only in the process holding the lease.

Several `swarmyard scheduler` processes may run for availability. Each tries
to take the lease every ttl/3; the one that holds it renews it at that pace
and runs the jobs (orchestrator, cron ticks, lease recovery, outbox sweep,
reservation expiry), the others stand by. A leader whose renewal is refused
or fails steps down at once (its jobs are cancelled) rather than guess
whether the lease still holds; a standby takes over when the lease lapses,
at most one ttl after the leader died. On shutdown the leader stops its jobs
and releases the lease, so a standby takes over within ttl/3.

Two leaders can overlap briefly — a leader paused longer than the ttl
resumes its jobs until its next renewal fails. That costs duplicated work,
not duplicated effects: every job is idempotent (see `ports.coordination`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from ..ports import LeaderLease

__all__ = ["LEASE_NAME", "Leadership"]

log = structlog.get_logger("swarmyard.leader")

LEASE_NAME = "swarmyard-scheduler"

Jobs = Callable[[], list[tuple[str, Coroutine[Any, Any, None]]]]


class Leadership:
    def __init__(self, lease: LeaderLease, jobs: Jobs, *, owner: str, ttl: float) -> None:
        """`jobs()` makes the named coroutines to run while leading (called
        afresh on each gain of leadership)."""
        if ttl <= 0:
            raise ValueError(f"the lease ttl must be > 0, not {ttl}")
        self._lease = lease
        self._jobs = jobs
        self.owner = owner
        self.ttl = ttl
        self._running: list[asyncio.Task[None]] = []
        self.terms = 0  # how often this process became leader

    @property
    def leading(self) -> bool:
        return bool(self._running)

    async def run(self) -> None:
        """Campaign, lead and step down until cancelled; then release the lease."""
        try:
            while True:
                held = await self._try_acquire()
                if held and not self.leading:
                    self._lead()
                elif not held and self.leading:
                    log.warning("leadership lost; stopping the scheduler jobs", owner=self.owner)
                    await self._stop_jobs()
                await asyncio.sleep(self.ttl / 3)
        finally:
            await self._stop_jobs()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._lease.release(LEASE_NAME, self.owner), self.ttl)

    async def _try_acquire(self) -> bool:
        try:
            return await self._lease.acquire(LEASE_NAME, self.owner, self.ttl)
        except Exception:
            log.exception("could not reach the leader lease", owner=self.owner)
            return False

    def _lead(self) -> None:
        self.terms += 1
        log.info("leading: running the scheduler jobs", owner=self.owner, term=self.terms)
        self._running = [asyncio.create_task(coro, name=name) for name, coro in self._jobs()]

    async def _stop_jobs(self) -> None:
        running, self._running = self._running, []
        for t in running:
            t.cancel()
        await asyncio.gather(*running, return_exceptions=True)

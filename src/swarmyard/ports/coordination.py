"""The leadership port: which of several equal processes does a singleton job.

Several `swarmyard scheduler` processes may run for availability; cron ticks,
the orchestrator sweep, lease recovery and the outbox sweep must each be
done by one of them at a time. A leader holds a named lease with a
time-to-live and renews it well before it lapses; when the leader dies its
lease lapses and another process takes over. Correctness never depends on
there being exactly one leader (every job is idempotent: schedule ticks and
assignments are guarded in the store), so a brief overlap after a pause costs
duplicated work, not duplicated effects.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["LeaderLease"]


class LeaderLease(Protocol):
    async def acquire(self, name: str, owner: str, ttl: float) -> bool:
        """Take the lease `name` for `owner` for `ttl` seconds, or renew it if
        `owner` holds it already. False while another owner's lease runs.
        Atomic across processes."""
        ...

    async def release(self, name: str, owner: str) -> None:
        """Give the lease up at once (shutting down), if `owner` holds it."""
        ...

    async def holder(self, name: str) -> str | None:
        """Who holds the lease now (None: nobody, or it lapsed)."""
        ...

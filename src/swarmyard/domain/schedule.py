"""Schedules: a cron expression that puts a task on the board at each tick.

A schedule is paused by switching it off, and resumed by switching it on.
Ticks that pass while it is paused are not owed: resuming waits for the
next tick from then on, whatever `missed` says (that policy is about ticks
missed while nothing ran, not ticks someone chose to stop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["MissedTicks", "Schedule"]


class MissedTicks(StrEnum):
    """What happens to ticks that passed while nothing was running.

    ``skip``: forget them and wait for the next future tick (the default:
    a nightly audit missed during a week of downtime is not worth seven
    cards). ``once``: create a single task for all of them, then carry on.
    """

    SKIP = "skip"
    ONCE = "once"


@dataclass(slots=True)
class Schedule:
    id: str
    workspace_id: str
    name: str
    cron: str
    timezone: str
    # Fields of the task created at each tick (title, type, description, …).
    template: dict[str, Any]
    next_run_at: datetime
    created_at: datetime
    missed: MissedTicks = MissedTicks.SKIP
    enabled: bool = True
    last_run_at: datetime | None = None
    last_task_id: str | None = None
    runs: int = 0
    updated_at: datetime | None = field(default=None)

    def pause(self, now: datetime) -> bool:
        """Stop ticking; answers whether anything changed (pausing twice is no change)."""
        if not self.enabled:
            return False
        self.enabled, self.updated_at = False, now
        return True

    def resume(self, now: datetime, next_run_at: datetime) -> bool:
        """Tick again from `next_run_at`, the first tick after `now`; answers
        whether anything changed. The tick that was due when it was paused is
        dropped with every other one that passed meanwhile."""
        if self.enabled:
            return False
        self.enabled, self.next_run_at, self.updated_at = True, next_run_at, now
        return True

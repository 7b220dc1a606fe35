"""Schedules: a cron expression that puts a task on the board at each tick."""

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

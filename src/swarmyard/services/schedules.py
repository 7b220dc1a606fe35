"""Schedules: cron expressions that put tasks on the board.

Expressions are validated with croniter, must not fire more often than
once a minute, and are evaluated in the schedule's time zone (so "every day
at 09:00" follows daylight-saving changes). Each tick creates its task once:
the task's origin key is the schedule id plus the tick's time.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from ..domain import MissedTicks, Problem, Schedule, ValidationFailed
from ..ports import UnitOfWork
from .announce import Announcer
from .deps import Deps
from .tasks import NewTask, TaskService

__all__ = ["MIN_INTERVAL", "ScheduleService", "next_tick"]

MIN_INTERVAL = timedelta(seconds=60)
_TEMPLATE_KEYS = {
    "title",
    "type",
    "description",
    "priority",
    "complexity",
    "required_role",
    "required_capabilities",
    "project_id",
    "review_required",
    "max_attempts",
}


def next_tick(cron: str, tz: str, after: datetime) -> datetime:
    """The first tick strictly after `after`, in UTC."""
    zone = ZoneInfo(tz)
    it = croniter(cron, after.astimezone(zone))
    nxt: datetime = it.get_next(datetime)
    return nxt.astimezone(ZoneInfo("UTC"))


def validate_schedule(
    cron: str, tz: str, template: dict[str, Any], missed: str, now: datetime
) -> list[Problem]:
    problems: list[Problem] = []
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("timezone", f"unknown time zone {tz!r}"))
        tz = "UTC"
    if not croniter.is_valid(cron):
        problems.append(Problem("cron", f"{cron!r} is not a valid cron expression"))
    else:
        first = next_tick(cron, tz, now)
        second = next_tick(cron, tz, first)
        if second - first < MIN_INTERVAL:
            problems.append(
                Problem(
                    "cron",
                    f"fires every {(second - first).total_seconds():.0f}"
                    f" s; the minimum interval is 60 s",
                )
            )
    if missed not in MissedTicks.__members__.values():
        problems.append(Problem("missed", f"{missed!r} is not one of: skip, once"))
    unknown = sorted(set(template) - _TEMPLATE_KEYS)
    if unknown:
        problems.append(Problem("task", f"unknown field(s): {', '.join(unknown)}"))
    for key in ("title", "type"):
        if not str(template.get(key) or "").strip():
            problems.append(Problem(f"task.{key}", "is required"))
    return problems


class ScheduleService:
    def __init__(self, deps: Deps, tasks: TaskService) -> None:
        self._d = deps
        self._tasks = tasks

    async def create(
        self,
        workspace_id: str,
        *,
        name: str,
        cron: str,
        timezone: str = "UTC",
        task: dict[str, Any],
        missed: str = "skip",
        enabled: bool = True,
    ) -> Schedule:
        now = self._d.clock.now()
        problems = validate_schedule(cron, timezone, task, missed, now)
        if not name.strip():
            problems.append(Problem("name", "must not be empty"))
        async with self._d.store.unit_of_work(workspace_id) as uow:
            if not problems:
                # Validate the template as a task now rather than at 3 a.m.
                found = await self._tasks.problems_in(uow, NewTask(**task))
                problems += [Problem(f"task.{p.path}", p.reason) for p in found]
        if problems:
            raise ValidationFailed("schedule", problems)
        schedule = Schedule(
            id=self._d.ids.new("sched"),
            workspace_id=workspace_id,
            name=name.strip(),
            cron=cron,
            timezone=timezone,
            template=dict(task),
            next_run_at=next_tick(cron, timezone, now),
            created_at=now,
            missed=MissedTicks(missed),
            enabled=enabled,
            updated_at=now,
        )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.schedules.add(schedule)
            await uow.commit()
        return schedule

    async def list(self, workspace_id: str) -> list[Schedule]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.schedules.list()

    async def get(self, workspace_id: str, schedule_id: str) -> Schedule:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.schedules.get(schedule_id)

    async def delete(self, workspace_id: str, schedule_id: str) -> None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.schedules.get(schedule_id)
            await uow.schedules.delete(schedule_id)
            await uow.commit()

    async def tick(self, workspace_id: str) -> builtins.list[str]:
        """Fire every due schedule of the workspace; returns the created task ids."""
        now = self._d.clock.now()
        created: builtins.list[str] = []
        async with self._d.store.unit_of_work(workspace_id) as uow:
            ann = Announcer(uow, self._d.clock, self._d.ids)
            for s in await uow.schedules.due(now):
                task_id = await self._fire(uow, ann, s, now)
                if task_id:
                    created.append(task_id)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return created

    async def _fire(
        self, uow: UnitOfWork, ann: Announcer, s: Schedule, now: datetime
    ) -> str | None:
        due = s.next_run_at
        following = next_tick(s.cron, s.timezone, due)
        late = following <= now  # at least one more tick has passed: we were down
        s.next_run_at = next_tick(s.cron, s.timezone, now) if late else following
        s.updated_at = now
        task_id = None
        if not late or s.missed is MissedTicks.ONCE:
            spec = NewTask(**s.template)
            if late:
                spec.description = (
                    f"{spec.description}\n\n(Ticks missed while Swarmyard was "
                    f"not running since {due.isoformat()} were merged into "
                    f"this one.)"
                ).strip()
            task = await self._tasks.create_in(
                uow, spec, origin_key=f"schedule:{s.id}:{due.isoformat()}"
            )
            await ann.task_changed(task)
            s.last_run_at, s.last_task_id, s.runs = now, task.id, s.runs + 1
            task_id = task.id
        await uow.schedules.update(s)
        return task_id

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

from croniter import CroniterBadDateError, croniter

from ..domain import MissedTicks, Problem, Schedule, ValidationFailed
from ..ports import UnitOfWork
from .announce import Announcer
from .deps import Deps
from .tasks import NewTask, TaskService

__all__ = ["MAX_PREVIEW", "MIN_INTERVAL", "ScheduleService", "next_tick", "upcoming_ticks"]

MIN_INTERVAL = timedelta(seconds=60)
MAX_PREVIEW = 20
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
# croniter's fields in order, with what each accepts: a bad expression is
# explained by the field at fault, not by croniter's message for the whole.
_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31"),
    ("month", "1-12 or jan-dec"),
    ("day of week", "0-7 or sun-sat"),
    ("second", "0-59"),
    ("year", "1970-2099"),
)
# The fields the scheduler's tick writes, and those pausing and resuming
# write: each leaves the other's alone, so one at the same moment as the
# other loses nothing.
_TICK_FIELDS = ("next_run_at", "updated_at", "last_run_at", "last_task_id", "runs")
_SWITCH_FIELDS = ("enabled", "next_run_at", "updated_at")


def next_tick(cron: str, tz: str, after: datetime) -> datetime:
    """The first tick strictly after `after`, in UTC."""
    return upcoming_ticks(cron, tz, after, 1)[0]


def upcoming_ticks(cron: str, tz: str, after: datetime, count: int) -> builtins.list[datetime]:
    """The next `count` ticks strictly after `after`, in UTC."""
    zone = ZoneInfo(tz)
    it = croniter(cron, after.astimezone(zone))
    utc = ZoneInfo("UTC")
    return [it.get_next(datetime).astimezone(utc) for _ in range(count)]


def _bad_field(cron: str) -> str:
    """Why croniter refuses `cron`, said of the field at fault."""
    fields = cron.split()
    if cron.strip().startswith("@"):
        return (
            f"{cron.strip()!r} is not a known shortcut "
            "(@hourly, @daily, @weekly, @monthly, @yearly)"
        )
    if not 5 <= len(fields) <= len(_FIELDS):
        return (
            f"{cron!r} has {len(fields)} field(s); a cron expression has 5: "
            "minute, hour, day of month, month, day of week"
        )
    for i, value in enumerate(fields):
        alone = " ".join(value if j == i else "*" for j in range(len(fields)))
        if not croniter.is_valid(alone):
            name, accepted = _FIELDS[i]
            return (
                f"the {name} field {value!r} is not valid"
                f" (it takes {accepted}, *, lists, ranges and steps)"
            )
    return f"{cron!r} is not a valid cron expression"


def cron_problems(cron: str, tz: str, now: datetime) -> builtins.list[Problem]:
    """What is wrong with a schedule's expression and time zone (nothing: [])."""
    problems: list[Problem] = []
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem("timezone", f"unknown time zone {tz!r}"))
        tz = "UTC"
    if not croniter.is_valid(cron):
        problems.append(Problem("cron", _bad_field(cron)))
        return problems
    try:
        first, second = upcoming_ticks(cron, tz, now, 2)
    except CroniterBadDateError:
        problems.append(Problem("cron", f"{cron!r} never fires: no date matches it"))
        return problems
    if second - first < MIN_INTERVAL:
        problems.append(
            Problem(
                "cron",
                f"fires every {(second - first).total_seconds():.0f}"
                f" s; the minimum interval is 60 s",
            )
        )
    return problems


def validate_schedule(
    cron: str, tz: str, template: dict[str, Any], missed: str, now: datetime
) -> list[Problem]:
    problems = cron_problems(cron, tz, now)
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

    def preview(self, cron: str, timezone: str = "UTC", count: int = 5) -> builtins.list[datetime]:
        """The next `count` ticks of an expression from now, in UTC; creates nothing.
        422 naming the problem when the expression or the zone would be refused."""
        now = self._d.clock.now()
        problems = cron_problems(cron, timezone, now)
        if not 1 <= count <= MAX_PREVIEW:
            problems.append(Problem("count", f"must be 1 to {MAX_PREVIEW}"))
        if problems:
            raise ValidationFailed("cron expression", problems)
        return upcoming_ticks(cron, timezone, now, count)

    async def set_enabled(self, workspace_id: str, schedule_id: str, enabled: bool) -> Schedule:
        """Pause (False) or resume (True); doing either twice changes nothing."""
        now = self._d.clock.now()
        async with self._d.store.unit_of_work(workspace_id) as uow:
            s = await uow.schedules.get(schedule_id)
            changed = s.resume(now, next_tick(s.cron, s.timezone, now)) if enabled else s.pause(now)
            if changed:
                await uow.schedules.update(s, only=_SWITCH_FIELDS)
                await uow.commit()
        return s

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
        await uow.schedules.update(s, only=_TICK_FIELDS)
        return task_id

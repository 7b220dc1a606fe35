"""Cron schedules: validation, ticks in a time zone, missed-tick policy, idempotent ticks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import FakeClock, NotFound, SequentialIds, ValidationFailed, Workspace
from swarmyard.ports import Page, TaskFilter
from swarmyard.services.catalog import CatalogService
from swarmyard.services.deps import Deps
from swarmyard.services.schedules import ScheduleService, next_tick
from swarmyard.services.tasks import TaskService

TEMPLATE = {"title": "Nightly audit", "type": "security-audit"}


@pytest.fixture
async def env() -> tuple[ScheduleService, TaskService, FakeClock]:
    clock = FakeClock(datetime(2026, 3, 27, 23, 30, tzinfo=UTC))  # a Friday
    store = MemoryStore()
    await store.migrate()
    await store.add_workspace(Workspace(WS, "Default", clock.now()))
    deps = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
    tasks = TaskService(deps, CatalogService(deps).known_roles)
    return ScheduleService(deps, tasks), tasks, clock


def test_next_tick_follows_the_time_zone_across_dst() -> None:
    # 09:00 in Berlin is 08:00 UTC before the switch (29 March 2026) and 07:00 after.
    before = next_tick("0 9 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, tzinfo=UTC))
    after = next_tick("0 9 * * *", "Europe/Berlin", before)
    assert before == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert next_tick("0 9 * * *", "Europe/Berlin", datetime(2026, 3, 27, 12, tzinfo=UTC)) == (
        datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    )


async def test_invalid_schedules_name_every_problem(
    env: tuple[ScheduleService, TaskService, FakeClock],
) -> None:
    schedules, _, _ = env
    with pytest.raises(ValidationFailed) as err:
        await schedules.create(
            WS,
            name=" ",
            cron="0 25 * * *",
            timezone="Mars/Olympus",
            task={"title": "", "type": "x", "colour": 1},
            missed="later",
        )
    paths = sorted(p.path for p in err.value.problems)
    assert paths == ["cron", "missed", "name", "task", "task.title", "timezone"]
    with pytest.raises(ValidationFailed, match="minimum interval is 60 s"):
        await schedules.create(WS, name="fast", cron="* * * * * */10", task=TEMPLATE)
    with pytest.raises(ValidationFailed, match=r"task\.type"):
        await schedules.create(
            WS, name="typo", cron="0 2 * * *", task={"title": "t", "type": "audit"}
        )
    assert await schedules.list(WS) == []


async def test_each_tick_creates_one_task(
    env: tuple[ScheduleService, TaskService, FakeClock],
) -> None:
    schedules, tasks, clock = env
    s = await schedules.create(WS, name="audit", cron="0 2 * * *", task=TEMPLATE)
    assert s.next_run_at == datetime(2026, 3, 28, 2, 0, tzinfo=UTC)
    assert await schedules.tick(WS) == []  # not due yet
    clock.set(datetime(2026, 3, 28, 2, 0, 5, tzinfo=UTC))
    created = await schedules.tick(WS)
    assert len(created) == 1
    assert await schedules.tick(WS) == []  # the same tick never fires twice
    s = await schedules.get(WS, s.id)
    assert (s.runs, s.last_task_id) == (1, created[0])
    assert s.next_run_at == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    task = await tasks.get(WS, created[0])
    assert (task.title, task.type, task.origin_key) == (
        "Nightly audit",
        "security-audit",
        f"schedule:{s.id}:2026-03-28T02:00:00+00:00",
    )


async def test_missed_ticks_skip_by_default(
    env: tuple[ScheduleService, TaskService, FakeClock],
) -> None:
    schedules, tasks, clock = env
    s = await schedules.create(WS, name="audit", cron="0 2 * * *", task=TEMPLATE)
    clock.advance(timedelta(days=4))  # down for four nights
    assert await schedules.tick(WS) == []
    s = await schedules.get(WS, s.id)
    assert s.next_run_at == datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    assert await tasks.list(WS, TaskFilter(), Page()) == []


async def test_missed_ticks_once_merges_them(
    env: tuple[ScheduleService, TaskService, FakeClock],
) -> None:
    schedules, tasks, clock = env
    await schedules.create(WS, name="audit", cron="0 2 * * *", task=TEMPLATE, missed="once")
    clock.advance(timedelta(days=4))
    created = await schedules.tick(WS)
    assert len(created) == 1
    task = await tasks.get(WS, created[0])
    assert "missed while Swarmyard was not running" in task.description
    assert await schedules.tick(WS) == []


async def test_ticks_while_paused_are_not_owed(
    env: tuple[ScheduleService, TaskService, FakeClock],
) -> None:
    schedules, tasks, clock = env
    # `once` catches up after downtime; a pause is not downtime.
    s = await schedules.create(WS, name="audit", cron="0 2 * * *", task=TEMPLATE, missed="once")
    paused = await schedules.set_enabled(WS, s.id, False)
    assert paused.enabled is False
    assert (await schedules.set_enabled(WS, s.id, False)).updated_at == paused.updated_at
    clock.advance(timedelta(days=3))  # Monday 30 March, 23:30
    assert await schedules.tick(WS) == []
    resumed = await schedules.set_enabled(WS, s.id, True)
    assert resumed.enabled is True
    assert resumed.next_run_at == datetime(2026, 3, 31, 2, 0, tzinfo=UTC)
    assert await schedules.tick(WS) == []
    assert await tasks.list(WS, TaskFilter(), Page()) == []
    clock.set(datetime(2026, 3, 31, 2, 0, 1, tzinfo=UTC))
    assert len(await schedules.tick(WS)) == 1
    with pytest.raises(NotFound):
        await schedules.set_enabled(WS, "sched_nope", False)


async def test_the_preview_lists_the_next_ticks_without_creating_anything(
    env: tuple[ScheduleService, TaskService, FakeClock],
) -> None:
    schedules, _, _ = env  # Friday 27 March 2026, 23:30 UTC
    ticks = schedules.preview("0 9 * * 1-5", "Europe/Berlin", 3)
    # Monday 30 March is after the switch to summer time: 09:00 in Berlin is 07:00 UTC.
    assert ticks == [datetime(2026, 3, d, 7, 0, tzinfo=UTC) for d in (30, 31)] + [
        datetime(2026, 4, 1, 7, 0, tzinfo=UTC)
    ]
    with pytest.raises(ValidationFailed, match="the hour field '24' is not valid"):
        schedules.preview("0 24 * * *")
    with pytest.raises(ValidationFailed, match="never fires"):
        schedules.preview("0 0 30 2 *")
    with pytest.raises(ValidationFailed, match="count"):
        schedules.preview("@daily", count=0)
    assert await schedules.list(WS) == []

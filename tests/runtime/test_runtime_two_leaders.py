"""Two leaders at once (a paused leader that resumes before noticing it lost
the lease) duplicate work, never effects: on PostgreSQL, concurrent
orchestrator passes assign each task once and concurrent cron ticks create
each scheduled task once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.ports import Page, TaskFilter
from swarmyard.runtime.processes import SCHEDULER
from swarmyard.runtime.wiring import Container, ensure_default_workspace
from swarmyard.services.tasks import NewTask

pytestmark = pytest.mark.postgres

Make = Callable[..., Container]


async def two_schedulers(make: Make) -> tuple[Container, Container]:
    """Two control planes on one database, their loops not started: the test
    runs their passes itself, at the same moment."""
    first, second = make(SCHEDULER), make(SCHEDULER)
    await first.store.migrate()
    await ensure_default_workspace(first.store, first.deps.clock)
    return first, second


async def test_concurrent_orchestrator_passes_assign_each_task_once(pg_cluster: Make) -> None:
    first, second = await two_schedulers(pg_cluster)
    await first.registry.install(WS, "documenter", replicas=3, name="a")
    await first.registry.install(WS, "documenter", replicas=3, name="b")
    tasks = [
        await first.tasks.create(WS, NewTask(title=f"Page {i}", type="docs")) for i in range(10)
    ]
    # Nobody runs the runs: every pass sees the same ready tasks and free slots.
    outcomes = await asyncio.gather(
        *(c.orchestrator.assign_ready(WS) for c in (first, second, first, second)),
        return_exceptions=True,
    )
    made = [a for o in outcomes if isinstance(o, list) for a in o]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(type(o).__name__ == "Conflict" for o in refused), refused
    assert len({a.task_id for a in made}) == len(made) == 6, "each slot once, each task once"

    runs = [r for t in tasks for r in await first.runs.for_task(WS, t.id)]
    assert len(runs) == 6
    assert len({r.task_id for r in runs}) == 6
    agents = await first.registry.list(WS)
    assert sum(a.running for a in agents) == 6
    async with first.store.unit_of_work(WS) as uow:
        for agent in agents:
            assert agent.running == await uow.runs.active_count(agent.id)


async def test_concurrent_cron_ticks_create_the_scheduled_task_once(pg_cluster: Make) -> None:
    first, second = await two_schedulers(pg_cluster)
    schedule = await first.schedules.create(
        WS, name="nightly", cron="0 3 * * *", task={"title": "Nightly docs", "type": "docs"}
    )
    for _ in range(3):
        async with first.store.unit_of_work(WS) as uow:
            s = await uow.schedules.get(schedule.id)
            s.next_run_at = first.deps.clock.now() - timedelta(minutes=1)
            await uow.schedules.update(s)
            await uow.commit()
        await asyncio.gather(
            first.schedules.tick(WS), second.schedules.tick(WS), return_exceptions=True
        )
    tasks = await first.tasks.list(WS, TaskFilter(), Page(limit=100))
    ticks = [t for t in tasks if t.title == "Nightly docs"]
    # Three forced ticks, each fired by two schedulers: three tasks, not six.
    assert len(ticks) == 3
    assert len({t.origin_key for t in ticks}) == 3

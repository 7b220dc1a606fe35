"""The orchestrator on in-memory adapters: what it assigns, and why it waits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import FakeClock, SequentialIds, TaskStatus, Workspace
from swarmyard.services.catalog import CatalogService
from swarmyard.services.deps import Deps
from swarmyard.services.orchestrator import KEPT_SCORES, WINDOW_MARGIN, Orchestrator
from swarmyard.services.registry import Registry
from swarmyard.services.tasks import NewTask, TaskService


class Env:
    def __init__(self, deps: Deps) -> None:
        catalog = CatalogService(deps)
        self.tasks = TaskService(deps, catalog.known_roles)
        self.registry = Registry(deps, catalog)
        self.orchestrator = Orchestrator(deps, catalog)
        self.store = deps.store


@pytest.fixture
async def env() -> Env:
    clock = FakeClock(datetime(2026, 5, 4, 9, tzinfo=UTC))
    store = MemoryStore()
    await store.migrate()
    await store.add_workspace(Workspace(WS, "Default", clock.now()))
    return Env(Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds()))


async def test_a_queue_nobody_can_take_does_not_hide_a_task_somebody_can(env: Env) -> None:
    for i in range(250):
        await env.tasks.create(WS, NewTask(title=f"Docs {i}", type="docs", priority="urgent"))
    fix = await env.tasks.create(WS, NewTask(title="Fix", type="bugfix", priority="low"))
    await env.registry.install(WS, "developer")
    made = await env.orchestrator.assign_ready(WS, limit=100)
    assert [a.task_id for a in made] == [fix.id]
    assert (await env.tasks.get(WS, fix.id)).status is TaskStatus.IN_PROGRESS


async def test_waiting_reasons_name_the_missing_agent_then_the_busy_one(env: Env) -> None:
    first = await env.tasks.create(WS, NewTask(title="One", type="bugfix"))
    await env.orchestrator.assign_ready(WS)
    waiting = await env.tasks.get(WS, first.id)
    assert waiting.waiting_reason == (
        "no active agent is installed; install an agent that takes bugfix tasks (medium complexity)"
    )
    await env.registry.install(WS, "developer")
    second = await env.tasks.create(WS, NewTask(title="Two", type="bugfix"))
    made = await env.orchestrator.assign_ready(WS)
    assert [a.task_id for a in made] == [first.id]  # oldest first, one slot
    assert (await env.tasks.get(WS, second.id)).waiting_reason == (
        "all eligible agents are busy (developer-1)"
    )


async def test_a_paused_agent_takes_nothing(env: Env) -> None:
    agent = await env.registry.install(WS, "developer")
    await env.registry.set_status(WS, agent.id, "inactive")
    task = await env.tasks.create(WS, NewTask(title="Fix", type="bugfix"))
    assert await env.orchestrator.assign_ready(WS) == []
    await env.registry.set_status(WS, agent.id, "active")
    assert [a.task_id for a in await env.orchestrator.assign_ready(WS)] == [task.id]


async def test_tasks_waiting_for_dependencies_do_not_hide_one_that_can_start(env: Env) -> None:
    # Far more waiting tasks than a pass reads at first (free slots + margin),
    # all ahead of the startable one by priority: the window has to widen.
    blocker = await env.tasks.create(WS, NewTask(title="Spec", type="docs"))
    part = NewTask(title="Part", type="bugfix", priority="urgent", depends_on=[blocker.id])
    waiting = [await env.tasks.create(WS, part) for _ in range(10 * WINDOW_MARGIN)]
    free = await env.tasks.create(WS, NewTask(title="Fix", type="bugfix", priority="low"))
    await env.registry.install(WS, "developer")
    made = await env.orchestrator.assign_ready(WS, limit=200)
    assert [a.task_id for a in made] == [free.id]
    part = await env.tasks.get(WS, waiting[-1].id)
    assert part.status is TaskStatus.TODO
    assert part.waiting_reason == f"waiting for dependencies: {blocker.id}"


async def test_a_run_keeps_the_best_scores_of_a_large_team(env: Env) -> None:
    for i in range(KEPT_SCORES + 5):
        await env.registry.install(WS, "developer", name=f"dev-{i}")
    task = await env.tasks.create(WS, NewTask(title="Fix", type="bugfix"))
    [made] = await env.orchestrator.assign_ready(WS)
    assert len(made.scores) == KEPT_SCORES + 5  # every candidate was scored
    async with env.store.unit_of_work(WS) as uow:
        [run] = await uow.runs.list(task_id=task.id)
    kept = run.assignment["scores"]
    assert [s["agent_id"] for s in kept] == [s.agent_id for s in made.scores[:KEPT_SCORES]]
    assert kept[0]["agent_id"] == run.assignment["chosen"] == made.agent_id

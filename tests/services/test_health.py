"""The health monitor on in-memory adapters: degraded, unhealthy, restarted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.catalog import builtin_manifests
from swarmyard.domain import (
    DEFAULT_WORKSPACE,
    AgentHealth,
    AgentStatus,
    FakeClock,
    SequentialIds,
    Workspace,
)
from swarmyard.services.catalog import CatalogService
from swarmyard.services.deps import Deps
from swarmyard.services.health import HealthMonitor
from swarmyard.services.registry import Registry

WS = DEFAULT_WORKSPACE


class Env:
    def __init__(self, deps: Deps, clock: FakeClock) -> None:
        self.deps = deps
        self.clock = clock
        self.catalog = CatalogService(deps)
        self.registry = Registry(deps, self.catalog)
        self.monitor = HealthMonitor(deps, self.catalog)

    async def fail(self, agent_id: str, times: int) -> None:
        for _ in range(times):
            async with self.deps.store.unit_of_work(WS) as uow:
                await uow.agents.add_usage(agent_id, failed=1, errors=1)
                await uow.commit()

    async def agent(self, agent_id: str):  # type: ignore[no-untyped-def]
        async with self.deps.store.unit_of_work(WS) as uow:
            return await uow.agents.get(agent_id)


@pytest.fixture
async def env() -> Env:
    clock = FakeClock(datetime(2026, 11, 20, 9, tzinfo=UTC))
    store = MemoryStore()
    await store.migrate()
    await store.add_workspace(Workspace(WS, "Default", clock.now()))
    return Env(Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds()), clock)


async def test_failures_degrade_then_restart_an_agent(env: Env) -> None:
    agent = await env.registry.install(WS, "developer")  # threshold 3, auto-restart on
    await env.fail(agent.id, 1)
    (change,) = await env.monitor.check(WS)
    assert (change.event, change.streak) == ("degraded", 1)
    assert (await env.agent(agent.id)).health is AgentHealth.DEGRADED
    assert await env.monitor.check(WS) == []  # nothing new: nothing said
    env.clock.advance(3600)
    await env.fail(agent.id, 2)
    (change,) = await env.monitor.check(WS)
    assert (change.event, change.streak) == ("restarted", 3)
    restarted = await env.agent(agent.id)
    assert (restarted.health, restarted.consecutive_failures) == (AgentHealth.HEALTHY, 0)
    assert restarted.started_at == env.clock.now()  # uptime starts again
    assert restarted.tasks_failed == 3  # history is kept


async def test_without_auto_restart_an_unhealthy_agent_stops_until_resumed(env: Env) -> None:
    developer = next(m for m in builtin_manifests() if m.role == "developer")
    strict = developer.model_copy(
        update={
            "id": "strict-developer",
            "builtin": False,
            "health_check": developer.health_check.model_copy(
                update={"auto_restart": False, "failure_threshold": 2}
            ),
        }
    )
    await env.catalog.add(WS, strict)
    agent = await env.registry.install(WS, "strict-developer")
    await env.fail(agent.id, 2)
    (change,) = await env.monitor.check(WS)
    assert change.event == "unhealthy"
    stopped = await env.agent(agent.id)
    assert (stopped.health, stopped.status) == (AgentHealth.UNHEALTHY, AgentStatus.ERROR)
    assert not stopped.takes_work
    resumed = await env.registry.set_status(WS, agent.id, "active")
    assert resumed.takes_work
    fresh = await env.agent(agent.id)
    assert (fresh.health, fresh.consecutive_failures) == (AgentHealth.HEALTHY, 0)
    assert await env.monitor.check(WS) == []


async def test_a_success_brings_a_degraded_agent_back(env: Env) -> None:
    agent = await env.registry.install(WS, "developer")
    await env.fail(agent.id, 1)
    await env.monitor.check(WS)
    async with env.deps.store.unit_of_work(WS) as uow:
        await uow.agents.add_usage(agent.id, succeeded=1)
        await uow.commit()
    (change,) = await env.monitor.check(WS)
    assert change.event == "recovered"
    assert (await env.agent(agent.id)).health is AgentHealth.HEALTHY

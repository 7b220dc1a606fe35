"""Agent health: watched from the outcomes of the agent's runs.

An agent is *healthy* while its runs succeed, *degraded* once one failed,
and *unhealthy* when its failure streak reaches its manifest's
`health_check.failure_threshold`. An unhealthy agent takes no new work
(`Agent.takes_work`). With `auto_restart` on (the default), the monitor
restarts it at once: the streak is cleared, its slots are recounted from the
runs it really holds, its pending runs are put back on the work queue, its
uptime starts again and the board says so. Without auto-restart it stays in
*error* until a person resumes it (`PATCH /agents/{id} {"status": "active"}`).

The monitor runs as a scheduler job (the leader's); every change it makes is
guarded by the unit of work of its workspace, so two monitors racing after
a leadership change restart an agent at most twice, harmlessly.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from ..domain import Agent, AgentHealth, AgentStatus, RunStatus
from ..ports import Page, UnitOfWork
from .announce import Announcer
from .catalog import CatalogService
from .deps import Deps

__all__ = ["HealthChange", "HealthMonitor"]

log = structlog.get_logger("swarmyard.health")


@dataclass(frozen=True, slots=True)
class HealthChange:
    agent_id: str
    event: str  # "degraded", "recovered", "unhealthy" or "restarted"
    streak: int


class HealthMonitor:
    def __init__(self, deps: Deps, catalog: CatalogService) -> None:
        self._d = deps
        self._catalog = catalog

    async def sweep(self) -> list[HealthChange]:
        """Check every workspace's agents (the scheduler job)."""
        changes: list[HealthChange] = []
        for ws in await self._d.store.list_workspaces():
            changes += await self.check(ws.id)
        return changes

    async def check(self, workspace_id: str) -> list[HealthChange]:
        changes: list[HealthChange] = []
        async with self._d.store.unit_of_work(workspace_id) as uow:
            ann = Announcer(uow, self._d.clock, self._d.ids)
            for agent in await uow.agents.list():
                change = await self._check_agent(uow, ann, agent)
                if change is not None:
                    changes.append(change)
                    await ann.board_notice(
                        "agent",
                        {"event": change.event, "agent_id": agent.id, "streak": change.streak},
                    )
            if changes:
                await uow.commit()
        if changes:
            self._d.outbox.submit(ann.messages)
            for c in changes:
                log.info("agent health", agent_id=c.agent_id, change=c.event, streak=c.streak)
        return changes

    async def _check_agent(
        self, uow: UnitOfWork, ann: Announcer, agent: Agent
    ) -> HealthChange | None:
        manifest = await self._catalog.get(uow, agent.manifest_id, agent.manifest_version)
        check = manifest.health_check
        streak = agent.consecutive_failures
        if streak >= check.failure_threshold:
            if check.auto_restart:
                await self._restart(uow, ann, agent)
                return HealthChange(agent.id, "restarted", streak)
            if agent.health is AgentHealth.UNHEALTHY:
                return None
            agent.health = AgentHealth.UNHEALTHY
            if agent.status is AgentStatus.ACTIVE:
                agent.move(AgentStatus.ERROR)
            await self._save(uow, agent)
            return HealthChange(agent.id, "unhealthy", streak)
        target = AgentHealth.HEALTHY if streak == 0 else AgentHealth.DEGRADED
        if target is agent.health:
            return None
        agent.health = target
        await self._save(uow, agent)
        return HealthChange(agent.id, "recovered" if streak == 0 else "degraded", streak)

    async def _restart(self, uow: UnitOfWork, ann: Announcer, agent: Agent) -> None:
        now = self._d.clock.now()
        agent.health = AgentHealth.HEALTHY
        agent.started_at = now
        if agent.status is AgentStatus.ERROR:
            agent.move(AgentStatus.ACTIVE)
        await self._save(uow, agent)
        # Slots held by runs that no longer hold them (lost in a crash) are freed.
        await uow.agents.restart(agent.id, running=await uow.runs.active_count(agent.id))
        pending = await uow.runs.list(
            agent_id=agent.id, statuses=(RunStatus.PENDING,), page=Page(limit=1000)
        )
        for run in pending:
            await ann.dispatch(run)

    async def _save(self, uow: UnitOfWork, agent: Agent) -> None:
        agent.updated_at = self._d.clock.now()
        await uow.agents.update(agent)

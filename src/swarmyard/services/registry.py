"""The agent registry: install, scale, pause, resume and uninstall agents."""

from __future__ import annotations

import builtins
from typing import Any

from ..domain import (
    ACTIVE_RUN_STATUSES,
    Agent,
    AgentHealth,
    AgentManifest,
    AgentStatus,
    Conflict,
    Dependency,
    LearningProfile,
    Problem,
    ValidationFailed,
    parse_version,
)
from ..ports import UnitOfWork
from .announce import Announcer
from .catalog import CatalogService
from .deps import Deps
from .runs import request_stop
from .views import agent_view

__all__ = ["HasDependants", "MissingDependencies", "Registry"]

MAX_REPLICAS = 100


class MissingDependencies(Conflict):
    code = "missing_dependencies"


class HasDependants(Conflict):
    code = "has_dependants"


def _satisfies(dep: Dependency, agent: Agent) -> bool:
    if dep.role is not None and agent.role != dep.role:
        return False
    if dep.agent is not None and agent.manifest_id != dep.agent:
        return False
    if dep.min_version is None:
        return True
    return parse_version(agent.manifest_version) >= parse_version(dep.min_version)


def _dep_view(dep: Dependency) -> dict[str, Any]:
    key = "role" if dep.role else "agent"
    return {key: dep.target, "min_version": dep.min_version}


class Registry:
    def __init__(self, deps: Deps, catalog: CatalogService) -> None:
        self._d = deps
        self._catalog = catalog

    async def list(self, workspace_id: str, role: str | None = None) -> list[Agent]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.agents.list(role=role)

    async def get(self, workspace_id: str, agent_id: str) -> Agent:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.agents.get(agent_id)

    async def learning(self, workspace_id: str, agent_id: str) -> builtins.list[LearningProfile]:
        """The agent's learning profiles: one per task type it has run, and the
        all-types one (ALL_TYPES); most executions first."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.agents.get(agent_id)  # NotFound names an unknown agent
            profiles = await uow.learning.profiles([agent_id])
        return sorted(profiles, key=lambda p: (-p.executions, p.task_type))

    async def install(
        self,
        workspace_id: str,
        manifest_id: str,
        *,
        version: str | None = None,
        replicas: int = 1,
        name: str | None = None,
    ) -> Agent:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            manifest = await self._catalog.get(uow, manifest_id, version)
            _check_replicas(replicas, manifest)
            installed = await uow.agents.list()
            missing = [
                d
                for d in manifest.dependencies
                if not d.optional and not any(_satisfies(d, a) for a in installed)
            ]
            if missing:
                names = ", ".join(
                    f"{d.target}" + (f" >= {d.min_version}" if d.min_version else "")
                    for d in missing
                )
                raise MissingDependencies(
                    f"{manifest.id} needs {names} installed first",
                    details={"missing": [_dep_view(d) for d in missing]},
                )
            agent_name = name or _next_name(manifest.id, {a.name for a in installed})
            if any(a.name == agent_name for a in installed):
                raise Conflict(
                    f"an agent named {agent_name!r} is already installed",
                    details={"name": agent_name},
                )
            now = self._d.clock.now()
            agent = Agent(
                id=self._d.ids.new("agent"),
                workspace_id=workspace_id,
                name=agent_name,
                manifest_id=manifest.id,
                manifest_version=manifest.version,
                role=manifest.role,
                replicas=replicas,
                created_at=now,
                started_at=now,
                updated_at=now,
            )
            await uow.agents.add(agent)
            await self._announce(uow, agent, "installed")
        return agent

    async def scale(self, workspace_id: str, agent_id: str, replicas: int) -> Agent:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            agent = await uow.agents.get(agent_id)
            manifest = await self._catalog.get(uow, agent.manifest_id, agent.manifest_version)
            _check_replicas(replicas, manifest)
            agent.replicas = replicas
            agent.updated_at = self._d.clock.now()
            await uow.agents.update(agent)
            await self._announce(uow, agent, "scaled")
        return agent

    async def set_status(self, workspace_id: str, agent_id: str, status: str) -> Agent:
        allowed = (AgentStatus.ACTIVE.value, AgentStatus.INACTIVE.value)
        if status not in allowed:
            raise ValidationFailed(
                "agent", [Problem("status", f"{status!r} is not one of: {', '.join(allowed)}")]
            )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            agent = await uow.agents.get(agent_id)
            was_broken = agent.status is AgentStatus.ERROR
            agent.move(AgentStatus(status))
            now = self._d.clock.now()
            agent.updated_at = now
            if agent.status is AgentStatus.ACTIVE:
                agent.started_at = now
            if was_broken and agent.status is AgentStatus.ACTIVE:
                # A person resumes an agent the health monitor stopped: start afresh.
                agent.health = AgentHealth.HEALTHY
                running = await uow.runs.active_count(agent.id)
                await uow.agents.restart(agent.id, running=running)
            await uow.agents.update(agent)
            await self._announce(uow, agent, "paused" if status == "inactive" else "resumed")
        return agent

    async def uninstall(self, workspace_id: str, agent_id: str, *, force: bool = False) -> None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            agent = await uow.agents.get(agent_id)
            others = [a for a in await uow.agents.list() if a.id != agent.id]
            dependants = await self._dependants(uow, agent, others)
            if dependants and not force:
                raise HasDependants(
                    f"{', '.join(dependants)} depend(s) on {agent.name}; uninstall them first "
                    "or force it",
                    details={"dependants": dependants},
                )
            active = await uow.runs.list(agent_id=agent.id, statuses=ACTIVE_RUN_STATUSES)
            if active and not force:
                raise Conflict(
                    f"{agent.name} has {len(active)} active run(s); stop them first or force it",
                    details={"runs": [r.id for r in active]},
                )
            ann = Announcer(uow, self._d.clock, self._d.ids)
            for run in active:
                await request_stop(uow, ann, run, self._d.clock.now(), reason="agent uninstalled")
            await uow.agents.delete(agent.id)
            await ann.board_notice("agent", {"event": "uninstalled", "agent_id": agent.id})
            await uow.commit()
        self._d.outbox.submit(ann.messages)

    async def _dependants(
        self, uow: UnitOfWork, agent: Agent, others: builtins.list[Agent]
    ) -> builtins.list[str]:
        """Agents that need `agent` and would have nothing else to satisfy them."""
        names = []
        for other in others:
            manifest = await self._catalog.get(uow, other.manifest_id, other.manifest_version)
            for dep in manifest.dependencies:
                if dep.optional or not _satisfies(dep, agent):
                    continue
                if not any(_satisfies(dep, a) for a in others if a.id != other.id):
                    names.append(other.name)
                    break
        return names

    async def _announce(self, uow: UnitOfWork, agent: Agent, event: str) -> None:
        ann = Announcer(uow, self._d.clock, self._d.ids)
        await ann.board_notice(
            "agent", {"event": event, "agent": agent_view(agent, self._d.clock.now())}
        )
        await uow.commit()
        self._d.outbox.submit(ann.messages)


def _check_replicas(replicas: int, manifest: AgentManifest) -> None:
    ceiling = min(MAX_REPLICAS, manifest.max_concurrent_tasks)
    if not 1 <= replicas <= ceiling:
        raise ValidationFailed(
            "agent",
            [
                Problem(
                    "replicas",
                    f"must be between 1 and {ceiling} for {manifest.id} "
                    f"(its manifest allows {manifest.max_concurrent_tasks} concurrent tasks)",
                )
            ],
        )


def _next_name(base: str, taken: set[str]) -> str:
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"

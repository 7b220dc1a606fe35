"""What a task would likely cost, before it exists.

The estimate must describe what would really happen, so the role and
manifest are settled as the orchestrator settles them: among the installed
agents that may take the task (`domain.eligibility`), the one the
assignment score would pick; with none installed, the role the task asks
for, else the built-in role that takes its type, with that role's built-in
manifest. The task is checked like a creation (a task that could not be
created cannot be estimated). Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..catalog import route_task_type
from ..domain import (
    ALL_TYPES,
    Agent,
    AgentManifest,
    Candidate,
    Complexity,
    Problem,
    Task,
    ValidationFailed,
    choose,
)
from ..domain.eligibility import ineligibility
from ..ports import UnitOfWork
from .catalog import CatalogService
from .deps import Deps
from .tasks import NewTask, TaskService
from .usage import UsageService

__all__ = ["TaskEstimator"]


@dataclass(frozen=True, slots=True)
class _Taker:
    role: str
    manifest: AgentManifest
    agent: Agent | None  # None: no installed agent may take it yet


class TaskEstimator:
    def __init__(
        self, deps: Deps, tasks: TaskService, catalog: CatalogService, usage: UsageService
    ) -> None:
        self._d = deps
        self._tasks = tasks
        self._catalog = catalog
        self._usage = usage

    async def estimate(self, workspace_id: str, spec: NewTask) -> dict[str, Any]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            problems = await self._tasks.problems_in(uow, spec)
            if problems:
                raise ValidationFailed("task", problems)
            taker = await self._taker(uow, self._draft(workspace_id, spec))
        estimate = await self._usage.estimate(
            workspace_id,
            manifest=taker.manifest,
            role=taker.role,
            task_type=spec.type,
            complexity=spec.complexity,
            project_id=spec.project_id,
            agent_id=taker.agent.id if taker.agent else None,
        )
        return {
            **estimate.as_dict(),
            "role": taker.role,
            "manifest": f"{taker.manifest.id}@{taker.manifest.version}",
            "agent_id": taker.agent.id if taker.agent else None,
        }

    def _draft(self, workspace_id: str, spec: NewTask) -> Task:
        """The task as it would be created, for the eligibility rules to read."""
        return Task(
            id="task_estimate",
            workspace_id=workspace_id,
            title=spec.title,
            type=spec.type,
            created_at=self._d.clock.now(),
            project_id=spec.project_id,
            complexity=Complexity(spec.complexity),
            required_role=spec.required_role,
            required_capabilities=list(spec.required_capabilities),
        )

    async def _taker(self, uow: UnitOfWork, task: Task) -> _Taker:
        eligible: list[tuple[Agent, AgentManifest]] = []
        for agent in await uow.agents.list():
            if not agent.takes_work:
                continue
            manifest = await self._catalog.get(uow, agent.manifest_id, agent.manifest_version)
            if ineligibility(agent, manifest, task) is None:
                eligible.append((agent, manifest))
        if eligible:
            agent, manifest = await _likely_winner(uow, task, eligible)
            return _Taker(agent.role, manifest, agent)
        role = task.required_role or route_task_type(task.type)
        manifests = [m for m in (await self._catalog.view(uow)).list() if m.role == role]
        if role is None or not manifests:
            raise ValidationFailed(
                "task",
                [Problem("type", f"no role takes {task.type} tasks; name one (required_role)")],
            )
        # The built-in manifest of the role when there is one (what installing
        # the role by name gives), else the workspace's own.
        manifests.sort(key=lambda m: not m.builtin)
        return _Taker(role, manifests[0], None)


async def _likely_winner(
    uow: UnitOfWork, task: Task, eligible: list[tuple[Agent, AgentManifest]]
) -> tuple[Agent, AgentManifest]:
    """The orchestrator's pick if the task were assigned now; while every
    eligible agent is busy, the first of them (the cost is the role's, not
    the agent's)."""
    agents = [a for a, _ in eligible]
    profiles = await uow.learning.profiles([a.id for a in agents], [task.type, ALL_TYPES])
    by_key = {(pr.agent_id, pr.task_type): pr for pr in profiles}
    winner, _ = choose(
        [Candidate(a, by_key.get((a.id, ALL_TYPES)), by_key.get((a.id, task.type))) for a in agents]
    )
    chosen = winner.agent_id if winner else agents[0].id
    return next(pair for pair in eligible if pair[0].id == chosen)

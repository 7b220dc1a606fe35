"""POST /tasks/estimate: what a task would likely cost, before creating it.

The body is the body of `POST /tasks`, checked the same way (a task that
could not be created cannot be estimated). The estimate must describe what
would really happen, so the role and manifest are settled as the
orchestrator settles them: among the installed agents that may take the
task (`domain.eligibility`), the one the assignment score would pick; with
none installed, the role the task asks for, else the built-in role that
takes its type, with that role's built-in manifest. Nothing is written.

Registered before the /tasks router so no `/tasks/{task_id}` route can
ever claim the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Response

from ...catalog import route_task_type
from ...domain import (
    ALL_TYPES,
    Agent,
    AgentManifest,
    Candidate,
    Complexity,
    Principal,
    Problem,
    Task,
    ValidationFailed,
    choose,
)
from ...domain.eligibility import ineligibility
from ...ports import UnitOfWork
from ...runtime.wiring import Container
from ...services.tasks import NewTask
from ..context import ContainerDep, acting
from ..responses import json_response
from ..schemas import TaskCreate

router = APIRouter(tags=["tasks"])


@dataclass(frozen=True, slots=True)
class _Taker:
    role: str
    manifest: AgentManifest
    agent: Agent | None  # None: no installed agent may take it yet


@router.post("/tasks/estimate")
async def estimate_task(
    body: TaskCreate, c: ContainerDep, p: Annotated[Principal, acting("task.create")]
) -> Response:
    ws = p.workspace_id
    spec = NewTask(**body.model_dump())
    async with c.store.unit_of_work(ws) as uow:
        problems = await c.tasks.problems_in(uow, spec)
        if problems:
            raise ValidationFailed("task", problems)
        taker = await _taker(c, uow, _draft(ws, spec, c))
    estimate = await c.usage.estimate(
        ws,
        manifest=taker.manifest,
        role=taker.role,
        task_type=spec.type,
        complexity=spec.complexity,
        project_id=spec.project_id,
    )
    return json_response(
        {
            **estimate.as_dict(),
            "role": taker.role,
            "manifest": f"{taker.manifest.id}@{taker.manifest.version}",
            "agent_id": taker.agent.id if taker.agent else None,
        }
    )


def _draft(ws: str, spec: NewTask, c: Container) -> Task:
    """The task as it would be created, for the eligibility rules to read."""
    return Task(
        id="task_estimate",
        workspace_id=ws,
        title=spec.title,
        type=spec.type,
        created_at=c.deps.clock.now(),
        project_id=spec.project_id,
        complexity=Complexity(spec.complexity),
        required_role=spec.required_role,
        required_capabilities=list(spec.required_capabilities),
    )


async def _taker(c: Container, uow: UnitOfWork, task: Task) -> _Taker:
    eligible: list[tuple[Agent, AgentManifest]] = []
    for agent in await uow.agents.list():
        if not agent.takes_work:
            continue
        manifest = await c.catalog.get(uow, agent.manifest_id, agent.manifest_version)
        if ineligibility(agent, manifest, task) is None:
            eligible.append((agent, manifest))
    if eligible:
        agent, manifest = await _likely_winner(uow, task, eligible)
        return _Taker(agent.role, manifest, agent)
    role = task.required_role or route_task_type(task.type)
    manifests = [m for m in (await c.catalog.view(uow)).list() if m.role == role]
    if role is None or not manifests:
        raise ValidationFailed(
            "task", [Problem("type", f"no role takes {task.type} tasks; name one (required_role)")]
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

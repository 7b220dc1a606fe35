"""The orchestrator: gives each ready task to the best agent that can take it.

One pass looks at the ready tasks of a workspace (todo, unassigned), most
urgent first. For each it checks dependencies, finds the eligible agents,
scores them (`domain.scoring`) and takes a slot of the winner atomically;
then it creates the run, moves the card to in_progress and puts the run on
its role's work queue — all in one transaction. A task nobody can take
stays in todo and says why (`waiting_reason`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import (
    ALL_TYPES,
    Agent,
    AgentManifest,
    Candidate,
    LearningProfile,
    Run,
    RunStatus,
    Score,
    Task,
    TaskStatus,
    choose,
)
from ..domain.eligibility import ineligibility
from ..ports import UnitOfWork
from .announce import Announcer
from .catalog import CatalogService
from .deps import Deps

__all__ = ["KEPT_SCORES", "WINDOW_MARGIN", "Assignment", "Orchestrator"]

# Ready tasks read per pass beyond the free slots, for those that turn out
# not to be startable (dependencies pending, no eligible agent).
WINDOW_MARGIN = 8
# Scores a run keeps of its assignment: the best few explain the choice;
# all of them (one per eligible agent, a hundred in a large team) made
# every run row carry kilobytes nobody reads.
KEPT_SCORES = 10

# Learning profiles read in one pass, by task type: (agent id, task type) →
# profile. They do not change while the pass runs, so each task type is
# read once per pass rather than once per task.
Profiles = dict[str, dict[tuple[str, str], LearningProfile]]


@dataclass(frozen=True, slots=True)
class Assignment:
    task_id: str
    run_id: str
    agent_id: str
    scores: list[Score]


class Orchestrator:
    def __init__(self, deps: Deps, catalog: CatalogService) -> None:
        self._d = deps
        self._catalog = catalog

    async def assign_ready(self, workspace_id: str, limit: int = 200) -> list[Assignment]:
        """One pass over the ready tasks of a workspace; returns what was assigned."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            ann = Announcer(uow, self._d.clock, self._d.ids)
            made = await self._pass(uow, ann, limit)
            if ann.messages:
                await uow.commit()
        if ann.messages:
            self._d.outbox.submit(ann.messages)
        return made

    async def _pass(self, uow: UnitOfWork, ann: Announcer, limit: int) -> list[Assignment]:
        agents = [a for a in await uow.agents.list() if a.takes_work]
        # Read each manifest once: a team is mostly replicas of a few.
        versions = {(a.manifest_id, a.manifest_version) for a in agents}
        by_version = {v: await self._catalog.get(uow, *v) for v in versions}
        manifests = {a.id: by_version[a.manifest_id, a.manifest_version] for a in agents}
        free = [a for a in agents if a.free_slots]
        if not free:
            # Everybody is busy: only new cards need a word on why they wait.
            tasks = await uow.tasks.ready(limit, unexplained=True)
            return await self._consider(uow, ann, tasks, agents, manifests)
        # Only what a free agent could take: a long queue nobody can serve
        # must not hide the task somebody can. And only about as many as
        # there are free slots: reading (and decoding) a backlog of
        # thousands at every pass made the pass cost grow with the backlog.
        # The window widens while it is full of tasks that cannot start yet
        # (waiting for dependencies), so those never hide one that can.
        roles = sorted({a.role for a in free})
        types = sorted({t for a in free for t in manifests[a.id].task_types})
        window = min(limit, sum(a.free_slots for a in free) + WINDOW_MARGIN)
        seen: set[str] = set()
        made: list[Assignment] = []
        while True:
            tasks = await uow.tasks.ready(window, roles=roles, types=types)
            fresh = [t for t in tasks if t.id not in seen]
            seen.update(t.id for t in fresh)
            made += await self._consider(uow, ann, fresh, agents, manifests)
            if len(tasks) < window or window >= limit or not any(a.free_slots for a in free):
                return made
            window = min(limit, 4 * window)

    async def _consider(
        self,
        uow: UnitOfWork,
        ann: Announcer,
        tasks: list[Task],
        agents: list[Agent],
        manifests: dict[str, AgentManifest],
    ) -> list[Assignment]:
        made: list[Assignment] = []
        profiles: Profiles = {}
        for task in tasks:
            if not await self._dependencies_done(uow, ann, task):
                continue
            assignment = await self._assign(uow, ann, task, agents, manifests, profiles=profiles)
            if assignment:
                made.append(assignment)
        return made

    async def _dependencies_done(self, uow: UnitOfWork, ann: Announcer, task: Task) -> bool:
        if not task.depends_on:
            return True
        deps = await uow.tasks.get_many(task.depends_on)
        dead = [d.id for d in deps if d.status in (TaskStatus.FAILED, TaskStatus.CANCELLED)]
        if dead:
            previous = task.move(TaskStatus.BLOCKED, now=self._d.clock.now())
            task.waiting_reason = f"dependency {', '.join(dead)} failed or was cancelled"
            await uow.tasks.update(task)
            await ann.task_changed(task, previous=previous.value)
            return False
        pending = [d.id for d in deps if d.status is not TaskStatus.DONE]
        if pending:
            await self._wait(uow, ann, task, f"waiting for dependencies: {', '.join(pending)}")
            return False
        return True

    async def _wait(self, uow: UnitOfWork, ann: Announcer, task: Task, reason: str) -> None:
        if task.waiting_reason != reason:
            task.waiting_reason = reason
            task.updated_at = self._d.clock.now()
            await uow.tasks.update(task)
            await ann.task_changed(task)

    async def _assign(
        self,
        uow: UnitOfWork,
        ann: Announcer,
        task: Task,
        agents: list[Agent],
        manifests: dict[str, AgentManifest],
        *,
        profiles: Profiles,
    ) -> Assignment | None:
        eligible = [a for a in agents if ineligibility(a, manifests[a.id], task) is None]
        if not eligible:
            await self._wait(uow, ann, task, _nobody_reason(task, agents, manifests))
            return None
        if not any(a.free_slots for a in eligible):
            busy = ", ".join(a.name for a in eligible)
            await self._wait(uow, ann, task, f"all eligible agents are busy ({busy})")
            return None
        # A retried task prefers agents that have not failed it already.
        failed_before = (
            {
                r.agent_id
                for r in await uow.runs.list(
                    task_id=task.id, statuses=(RunStatus.FAILED, RunStatus.TIMED_OUT)
                )
            }
            if task.attempts
            else set()
        )
        fresh = [a for a in eligible if a.id not in failed_before and a.free_slots]
        pool = fresh or eligible
        by_key = profiles.get(task.type)
        if by_key is None:
            found = await uow.learning.profiles([a.id for a in agents], [task.type, ALL_TYPES])
            by_key = profiles[task.type] = {(p.agent_id, p.task_type): p for p in found}
        _, scores = choose(
            [
                Candidate(a, by_key.get((a.id, ALL_TYPES)), by_key.get((a.id, task.type)))
                for a in pool
            ]
        )
        for s in scores:
            if await uow.agents.take_slot(s.agent_id):
                agent = next(a for a in pool if a.id == s.agent_id)
                agent.running += 1  # mirror the atomic update for the rest of this pass
                return await self._start(uow, ann, task, agent, scores=scores, chosen=s)
        busy = ", ".join(a.name for a in eligible)
        await self._wait(uow, ann, task, f"all eligible agents are busy ({busy})")
        return None

    async def _start(
        self,
        uow: UnitOfWork,
        ann: Announcer,
        task: Task,
        agent: Agent,
        *,
        scores: list[Score],
        chosen: Score,
    ) -> Assignment:
        now = self._d.clock.now()
        run = Run(
            id=self._d.ids.new("run"),
            workspace_id=uow.workspace_id,
            task_id=task.id,
            agent_id=agent.id,
            role=agent.role,
            created_at=now,
            input=task.description,
            assignment={
                "chosen": chosen.agent_id,
                "reason": f"highest score {chosen.final:.4f} among {len(scores)} "
                f"candidate(s) with a free slot",
                "scores": [s.as_dict() for s in scores[:KEPT_SCORES]],
            },
        )
        await uow.runs.add(run)
        previous = task.move(TaskStatus.IN_PROGRESS, now=now)
        task.assignee_agent_id = agent.id
        task.attempts += 1
        task.waiting_reason = None
        await uow.tasks.update(task)
        await ann.task_changed(task, previous=previous.value)
        await ann.dispatch(run)
        return Assignment(task.id, run.id, agent.id, scores)


def _nobody_reason(task: Task, agents: list[Agent], manifests: dict[str, AgentManifest]) -> str:
    if task.required_role:
        wanted = f"an agent of role {task.required_role}"
    elif task.required_capabilities:
        wanted = f"an agent with {', '.join(task.required_capabilities)}"
    else:
        wanted = f"an agent that takes {task.type} tasks ({task.complexity.value} complexity)"
    if not agents:
        return f"no active agent is installed; install {wanted}"
    reasons = sorted({f"{a.name}: {ineligibility(a, manifests[a.id], task)}" for a in agents})
    return f"waiting for {wanted}; " + "; ".join(reasons[:5])

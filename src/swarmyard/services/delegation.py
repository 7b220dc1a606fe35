"""Delegation: an agent hands part of its task to another role.

The subtask is created once per tool call (its origin key is the run id
plus the tool call id), so a resumed run that repeats the call finds the
subtask it already made instead of making a second one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from ..domain import (
    Complexity,
    DomainError,
    EventType,
    NotFound,
    Run,
    Task,
    TaskStatus,
)
from ..ports import Page, TaskFilter, UnitOfWork
from .announce import Announcer
from .deps import Deps
from .lifecycle import Lifecycle
from .tasks import NewTask, TaskService

__all__ = ["DelegationRequest", "Delegator", "SubtaskOutcome"]

_FINAL = (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.BLOCKED)


@dataclass(frozen=True, slots=True)
class DelegationRequest:
    role: str
    title: str
    description: str
    type: str
    complexity: str | None = None

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> DelegationRequest:
        missing = [k for k in ("role", "title", "type") if not str(args.get(k) or "").strip()]
        if missing:
            raise ValueError(f"delegate needs {', '.join(missing)}")
        complexity = args.get("complexity")
        return cls(
            str(args["role"]),
            str(args["title"]),
            str(args.get("description") or ""),
            str(args["type"]),
            str(complexity) if complexity else None,
        )


@dataclass(frozen=True, slots=True)
class SubtaskOutcome:
    task_id: str | None
    status: str  # done | failed | cancelled | blocked | refused
    result: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "status": self.status,
            "result": self.result,
            "reason": self.reason,
        }


def subtask_outcome(task: Task) -> SubtaskOutcome | None:
    """The outcome once the subtask has settled, else None."""
    if task.status is TaskStatus.REVIEW and not task.review_required:
        return None
    if task.status in _FINAL or task.status is TaskStatus.REVIEW:
        return SubtaskOutcome(task.id, task.status.value, task.result, task.waiting_reason)
    return None


class Delegator:
    def __init__(self, deps: Deps, tasks: TaskService, lifecycle: Lifecycle) -> None:
        self._d = deps
        self._tasks = tasks
        self._life = lifecycle

    async def delegate(
        self, run: Run, parent: Task, call_id: str, req: DelegationRequest
    ) -> SubtaskOutcome | Task:
        """Create (or find again) the subtask; a refusal comes back as an outcome."""
        origin = f"delegate:{run.id}:{call_id}"
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            existing = await uow.tasks.by_origin(origin)
            if existing is not None:
                return existing
            busy_roles = await self._roles_up_the_chain(uow, run, parent)
            if req.role in busy_roles:
                # The subtask would need a slot of a role that is itself waiting
                # on this chain: with every slot taken it would wait forever.
                return SubtaskOutcome(
                    None,
                    "refused",
                    reason=(
                        f"{req.role} is already working on this task or one above it; delegate "
                        "to another role or do the work yourself"
                    ),
                )
            installed = {a.role for a in await uow.agents.list() if a.takes_work}
            if req.role not in installed:
                return SubtaskOutcome(
                    None,
                    "refused",
                    reason=(f"no active agent of role {req.role!r} is installed in this workspace"),
                )
            spec = NewTask(
                title=req.title,
                type=req.type,
                description=req.description,
                complexity=req.complexity or parent.complexity.value,
                priority=parent.priority.value,
                required_role=req.role,
            )
            if spec.complexity not in Complexity.__members__.values():
                spec.complexity = parent.complexity.value
            try:
                sub = await self._tasks.create_in(
                    uow, spec, parent=parent, delegated_by_run=run.id, origin_key=origin
                )
            except DomainError as exc:
                return SubtaskOutcome(None, "refused", reason=exc.message)
            ev = self._life.event(
                run,
                EventType.DELEGATED,
                {"subtask_id": sub.id, "role": req.role, "title": sub.title, "call_id": call_id},
            )
            await uow.runs.save(run)
            await uow.events.append([ev])
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await ann.run_events([ev])
            await ann.task_changed(sub)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return sub

    async def _roles_up_the_chain(self, uow: UnitOfWork, run: Run, task: Task) -> set[str]:
        roles = {run.role}
        parent_id = task.parent_id
        while parent_id:
            ancestor = await uow.tasks.get(parent_id)
            if ancestor.required_role:
                roles.add(ancestor.required_role)
            elif ancestor.assignee_agent_id:
                with contextlib.suppress(NotFound):  # uninstalled since: it holds no slot
                    roles.add((await uow.agents.get(ancestor.assignee_agent_id)).role)
            parent_id = ancestor.parent_id
        return roles

    async def check(self, workspace_id: str, subtask_id: str) -> SubtaskOutcome | None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return subtask_outcome(await uow.tasks.get(subtask_id))

    async def cancel_children(self, run: Run) -> None:
        """When a delegating run stops, the work it handed out stops too."""
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            children = await uow.tasks.list(TaskFilter(parent_id=run.task_id), Page(limit=500))
        for child in children:
            if child.delegated_by_run == run.id and not child.status.is_terminal:
                await self._tasks.cancel(run.workspace_id, child.id)

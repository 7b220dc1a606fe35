"""Use cases of the board: create, list, show, move and cancel tasks.

Every status change goes through `Task.move` (the board state machine) and
is announced on the workspace's board subject in the same transaction.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..domain import (
    ACTIVE_RUN_STATUSES,
    TASK_TYPES,
    Complexity,
    Conflict,
    NotFound,
    Priority,
    Problem,
    Task,
    TaskStatus,
    ValidationFailed,
    find_cycle,
)
from ..ports import Page, TaskFilter, UnitOfWork
from .announce import Announcer
from .deps import Deps
from .runs import request_stop

__all__ = ["MAX_DELEGATION_DEPTH", "NewTask", "TaskService"]

MAX_DELEGATION_DEPTH = 5
_CREATABLE = (TaskStatus.BACKLOG, TaskStatus.TODO)


@dataclass(slots=True)
class NewTask:
    """A task as a person (or a schedule, or a delegating agent) asks for it."""

    title: str
    type: str
    description: str = ""
    priority: str = Priority.NORMAL.value
    complexity: str = Complexity.MEDIUM.value
    required_role: str | None = None
    required_capabilities: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    project_id: str | None = None
    status: str = TaskStatus.TODO.value
    review_required: bool = False
    max_attempts: int = 2
    labels: dict[str, Any] = field(default_factory=dict)


def _enum_problem(path: str, value: str, allowed: Sequence[str]) -> Problem:
    return Problem(path, f"{value!r} is not one of: {', '.join(allowed)}")


def validate_new_task(spec: NewTask, known_roles: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if not spec.title.strip():
        problems.append(Problem("title", "must not be empty"))
    if len(spec.title) > 300:
        problems.append(Problem("title", "must be at most 300 characters"))
    if spec.type not in TASK_TYPES:
        problems.append(_enum_problem("type", spec.type, TASK_TYPES))
    if spec.priority not in Priority.__members__.values():
        problems.append(_enum_problem("priority", spec.priority, [p.value for p in Priority]))
    if spec.complexity not in Complexity.__members__.values():
        problems.append(_enum_problem("complexity", spec.complexity, [c.value for c in Complexity]))
    if spec.status not in _CREATABLE:
        problems.append(_enum_problem("status", spec.status, [s.value for s in _CREATABLE]))
    if spec.required_role is not None and spec.required_role not in known_roles:
        problems.append(
            Problem(
                "required_role",
                f"unknown role {spec.required_role!r}; known roles: "
                f"{', '.join(sorted(known_roles))}",
            )
        )
    if not 1 <= spec.max_attempts <= 10:
        problems.append(Problem("max_attempts", "must be between 1 and 10"))
    if len(set(spec.depends_on)) != len(spec.depends_on):
        problems.append(Problem("depends_on", "lists a task more than once"))
    return problems


class TaskService:
    def __init__(self, deps: Deps, known_roles: Any) -> None:
        """`known_roles(uow, including=role)` returns the roles of the
        workspace's catalogue (`CatalogService.known_roles`)."""
        self._d = deps
        self._known_roles = known_roles

    async def create(
        self,
        workspace_id: str,
        spec: NewTask,
        *,
        parent: Task | None = None,
        delegated_by_run: str | None = None,
        origin_key: str | None = None,
    ) -> Task:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            task = await self.create_in(
                uow, spec, parent=parent, delegated_by_run=delegated_by_run, origin_key=origin_key
            )
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await ann.task_changed(task)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return task

    async def problems_in(
        self, uow: UnitOfWork, spec: NewTask, *, parent: Task | None = None
    ) -> list[Problem]:
        """Everything wrong with `spec` in this workspace (empty when it may be created)."""
        wanted = spec.required_role
        roles = set() if wanted is None else await self._known_roles(uow, including=wanted)
        problems = validate_new_task(spec, roles)
        if spec.project_id is not None:
            try:
                await uow.projects.get(spec.project_id)
            except NotFound:
                problems.append(Problem("project_id", f"no project {spec.project_id!r}"))
        deps = await uow.tasks.get_many(spec.depends_on) if spec.depends_on else []
        missing = sorted(set(spec.depends_on) - {d.id for d in deps})
        if missing:
            problems.append(Problem("depends_on", f"unknown task(s): {', '.join(missing)}"))
        depth = parent.delegation_depth + 1 if parent else 0
        if depth > MAX_DELEGATION_DEPTH:
            problems.append(
                Problem("parent_id", f"delegation deeper than {MAX_DELEGATION_DEPTH} levels")
            )
        return problems

    async def create_in(
        self,
        uow: UnitOfWork,
        spec: NewTask,
        *,
        parent: Task | None = None,
        delegated_by_run: str | None = None,
        origin_key: str | None = None,
    ) -> Task:
        """Create inside the caller's transaction (delegation and schedules use this)."""
        if origin_key is not None:
            existing = await uow.tasks.by_origin(origin_key)
            if existing is not None:
                return existing
        problems = await self.problems_in(uow, spec, parent=parent)
        if problems:
            raise ValidationFailed("task", problems)
        now = self._d.clock.now()
        task = Task(
            id=self._d.ids.new("task"),
            workspace_id=uow.workspace_id,
            title=spec.title.strip(),
            type=spec.type,
            created_at=now,
            updated_at=now,
            project_id=spec.project_id
            if spec.project_id
            else (parent.project_id if parent else None),
            description=spec.description,
            priority=Priority(spec.priority),
            complexity=Complexity(spec.complexity),
            required_role=spec.required_role,
            required_capabilities=list(spec.required_capabilities),
            depends_on=list(spec.depends_on),
            parent_id=parent.id if parent else None,
            delegated_by_run=delegated_by_run,
            delegation_depth=parent.delegation_depth + 1 if parent else 0,
            status=TaskStatus(spec.status),
            review_required=spec.review_required,
            max_attempts=spec.max_attempts,
            labels=dict(spec.labels),
            origin_key=origin_key,
        )
        await uow.tasks.add(task)
        return task

    async def get(self, workspace_id: str, task_id: str) -> Task:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.tasks.get(task_id)

    async def list(self, workspace_id: str, flt: TaskFilter, page: Page) -> list[Task]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.tasks.list(flt, page)

    async def board(
        self, workspace_id: str, project_id: str | None = None, limit_per_column: int = 200
    ) -> dict[TaskStatus, builtins.list[Task]]:
        columns: dict[TaskStatus, builtins.list[Task]] = {}
        async with self._d.store.unit_of_work(workspace_id) as uow:
            for status in TaskStatus:
                columns[status] = await uow.tasks.list(
                    TaskFilter(project_id=project_id, statuses=(status,)),
                    Page(limit=limit_per_column),
                )
        return columns

    async def move(self, workspace_id: str, task_id: str, target: str) -> Task:
        """A person drags a card. Only the moves in MANUAL_TASK_MOVES are allowed."""
        try:
            status = TaskStatus(target)
        except ValueError:
            raise ValidationFailed(
                "move", [_enum_problem("status", target, [s.value for s in TaskStatus])]
            ) from None
        if status is TaskStatus.CANCELLED:
            return await self.cancel(workspace_id, task_id)
        async with self._d.store.unit_of_work(workspace_id) as uow:
            task = await uow.tasks.get(task_id)
            previous = task.move(status, now=self._d.clock.now(), manual=True)
            if status is TaskStatus.TODO:
                task.assignee_agent_id = None
                task.waiting_reason = None
            await uow.tasks.update(task)
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await ann.task_changed(task, previous=previous.value)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return task

    async def cancel(self, workspace_id: str, task_id: str) -> Task:
        """Cancel a task, its open subtasks, and stop their runs."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            ann = Announcer(uow, self._d.clock, self._d.ids)
            root = await uow.tasks.get(task_id)
            if root.status is TaskStatus.CANCELLED:
                return root  # cancelling twice is not an error: the outcome is the same
            if root.status is TaskStatus.DONE:
                root.move(TaskStatus.CANCELLED, now=self._d.clock.now(), manual=True)  # raises
            await self._cancel_tree(uow, ann, root)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return root

    async def _cancel_tree(self, uow: UnitOfWork, ann: Announcer, root: Task) -> None:
        now = self._d.clock.now()
        queue = [root]
        while queue:
            task = queue.pop()
            if not task.status.is_terminal:
                previous = task.move(TaskStatus.CANCELLED, now=now)
                task.waiting_reason = None
                await uow.tasks.update(task)
                await ann.task_changed(task, previous=previous.value)
                for run in await uow.runs.list(task_id=task.id, statuses=ACTIVE_RUN_STATUSES):
                    await request_stop(uow, ann, run, now, reason="task cancelled")
            queue.extend(await uow.tasks.list(TaskFilter(parent_id=task.id), Page(limit=500)))

    async def would_cycle(
        self, uow: UnitOfWork, task_id: str, depends_on: Sequence[str]
    ) -> builtins.list[str] | None:
        cache: dict[str, builtins.list[str]] = {}
        for t in await uow.tasks.get_many(list(depends_on)):
            cache[t.id] = list(t.depends_on)

        # find_cycle walks synchronously; preload the reachable graph first.
        frontier = [d for deps in cache.values() for d in deps]
        while frontier:
            fetched = await uow.tasks.get_many([f for f in frontier if f not in cache])
            frontier = []
            for t in fetched:
                cache[t.id] = list(t.depends_on)
                frontier.extend(d for d in t.depends_on if d not in cache)
        return find_cycle(task_id, depends_on, lambda n: cache.get(n, []))

    async def set_dependencies(
        self, workspace_id: str, task_id: str, depends_on: builtins.list[str]
    ) -> Task:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            task = await uow.tasks.get(task_id)
            found = {t.id for t in await uow.tasks.get_many(depends_on)}
            missing = sorted(set(depends_on) - found)
            if missing:
                raise ValidationFailed(
                    "task", [Problem("depends_on", f"unknown task(s): {', '.join(missing)}")]
                )
            cycle = await self.would_cycle(uow, task_id, depends_on)
            if cycle:
                raise Conflict(f"dependency cycle: {' -> '.join(cycle)}", details={"cycle": cycle})
            task.depends_on = list(depends_on)
            task.updated_at = self._d.clock.now()
            await uow.tasks.update(task)
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await ann.task_changed(task)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return task

"""/tasks and /board: the Kanban board."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from ...domain import Principal, Problem, TaskStatus, ValidationFailed
from ...ports import Page, TaskFilter
from ...services.tasks import NewTask
from ...services.views import run_view, task_view
from ..context import ContainerDep, acting
from ..responses import MAX_LIMIT, idempotent, json_response, page_of
from ..schemas import TaskCreate, TaskPatch

router = APIRouter(tags=["tasks"])


def _statuses(raw: str | None) -> tuple[TaskStatus, ...]:
    if not raw:
        return ()
    values = [s.strip() for s in raw.split(",") if s.strip()]
    bad = [v for v in values if v not in TaskStatus.__members__.values()]
    if bad:
        raise ValidationFailed(
            "filter",
            [Problem("status", f"unknown status {', '.join(bad)}; use {', '.join(TaskStatus)}")],
        )
    return tuple(TaskStatus(v) for v in values)


@router.get("/tasks")
async def list_tasks(  # noqa: PLR0917 (one parameter per query filter)
    c: ContainerDep,
    p: Annotated[Principal, acting("task.read")],
    project: str | None = None,
    status: str | None = None,
    role: str | None = None,
    type: str | None = None,
    parent: str | None = None,
    q: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Response:
    ws = p.workspace_id
    flt = TaskFilter(
        project_id=project,
        statuses=_statuses(status),
        role=role,
        type=type,
        parent_id=parent,
        text=q,
    )
    tasks = await c.tasks.list(ws, flt, Page(limit=limit + 1, after=cursor))
    return json_response(page_of([task_view(t) for t in tasks], limit))


@router.post("/tasks", status_code=201)
async def create_task(
    request: Request,
    body: TaskCreate,
    c: ContainerDep,
    p: Annotated[Principal, acting("task.create")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        task = await c.tasks.create(ws, NewTask(**body.model_dump()))
        return 201, task_view(task)

    return await idempotent(request, c, ws, produce, audit="task.create")


@router.get("/tasks/{task_id}")
async def show_task(
    task_id: str, c: ContainerDep, p: Annotated[Principal, acting("task.read")]
) -> Response:
    ws = p.workspace_id
    return json_response(task_view(await c.tasks.get(ws, task_id)))


@router.patch("/tasks/{task_id}")
async def patch_task(
    request: Request,
    task_id: str,
    body: TaskPatch,
    c: ContainerDep,
    p: Annotated[Principal, acting("task.move")],
) -> Response:
    ws = p.workspace_id
    if body.status is None and body.depends_on is None:
        raise ValidationFailed("task change", [Problem("", "give status and/or depends_on")])

    async def produce() -> tuple[int, Any]:
        task = await c.tasks.get(ws, task_id)
        if body.depends_on is not None:
            task = await c.tasks.set_dependencies(ws, task_id, body.depends_on)
        if body.status is not None:
            task = await c.tasks.move(ws, task_id, body.status)
        return 200, task_view(task)

    return await idempotent(request, c, ws, produce, audit="task.move")


@router.delete("/tasks/{task_id}")
async def cancel_task(
    request: Request, task_id: str, c: ContainerDep, p: Annotated[Principal, acting("task.cancel")]
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        return 200, task_view(await c.tasks.cancel(ws, task_id))

    return await idempotent(request, c, ws, produce, audit="task.cancel")


@router.get("/tasks/{task_id}/runs")
async def task_runs(
    task_id: str, c: ContainerDep, p: Annotated[Principal, acting("run.read")]
) -> Response:
    ws = p.workspace_id
    runs = await c.runs.for_task(ws, task_id)
    return json_response({"items": [run_view(r) for r in runs], "next_cursor": None})


@router.get("/board")
async def board(
    c: ContainerDep, p: Annotated[Principal, acting("task.read")], project: str | None = None
) -> Response:
    ws = p.workspace_id
    columns = await c.tasks.board(ws, project)
    return json_response(
        {"columns": {s.value: [task_view(t) for t in ts] for s, ts in columns.items()}}
    )

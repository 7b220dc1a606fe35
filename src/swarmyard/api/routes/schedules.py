"""/schedules: cron schedules that create tasks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ...services.views import schedule_view
from ..context import ContainerDep, WorkspaceDep
from ..responses import idempotent, json_response
from ..schemas import ScheduleCreate

router = APIRouter(tags=["schedules"])


@router.get("/schedules")
async def list_schedules(c: ContainerDep, ws: WorkspaceDep) -> Response:
    items = [schedule_view(s) for s in await c.schedules.list(ws)]
    return json_response({"items": items, "next_cursor": None})


@router.post("/schedules", status_code=201)
async def create_schedule(
    request: Request, body: ScheduleCreate, c: ContainerDep, ws: WorkspaceDep
) -> Response:
    async def produce() -> tuple[int, Any]:
        s = await c.schedules.create(
            ws,
            name=body.name,
            cron=body.cron,
            timezone=body.timezone,
            task=body.task,
            missed=body.missed,
            enabled=body.enabled,
        )
        return 201, schedule_view(s)

    return await idempotent(request, c, ws, produce)


@router.get("/schedules/{schedule_id}")
async def show_schedule(schedule_id: str, c: ContainerDep, ws: WorkspaceDep) -> Response:
    return json_response(schedule_view(await c.schedules.get(ws, schedule_id)))


@router.delete("/schedules/{schedule_id}", status_code=204)
async def delete_schedule(
    request: Request, schedule_id: str, c: ContainerDep, ws: WorkspaceDep
) -> Response:
    async def produce() -> tuple[int, Any]:
        await c.schedules.delete(ws, schedule_id)
        return 204, None

    return await idempotent(request, c, ws, produce)

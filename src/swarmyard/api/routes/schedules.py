"""/schedules: cron schedules that create tasks."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from ...domain import Principal, Problem, ValidationFailed
from ...services.schedules import MAX_PREVIEW
from ...services.views import schedule_view
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response
from ..schemas import ScheduleCreate, SchedulePatch

router = APIRouter(tags=["schedules"])


@router.get("/schedules")
async def list_schedules(
    c: ContainerDep, p: Annotated[Principal, acting("schedule.read")]
) -> Response:
    ws = p.workspace_id
    items = [schedule_view(s) for s in await c.schedules.list(ws)]
    return json_response({"items": items, "next_cursor": None})


@router.post("/schedules", status_code=201)
async def create_schedule(
    request: Request,
    body: ScheduleCreate,
    c: ContainerDep,
    p: Annotated[Principal, acting("schedule.create")],
) -> Response:
    ws = p.workspace_id

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

    return await idempotent(request, c, ws, produce, audit="schedule.create")


# Before /schedules/{schedule_id}, which would otherwise take "preview" for an id.
@router.get("/schedules/preview")
async def preview_schedule(
    c: ContainerDep,
    p: Annotated[Principal, acting("schedule.read")],
    cron: Annotated[str, Query(min_length=1, max_length=200)],
    timezone: Annotated[str, Query(max_length=64)] = "UTC",
    count: Annotated[int, Query(ge=1, le=MAX_PREVIEW)] = 5,
) -> Response:
    ticks = c.schedules.preview(cron, timezone, count)
    zone = ZoneInfo(timezone)
    return json_response(
        {
            "cron": cron,
            "timezone": timezone,
            "ticks": [
                {"at": t.isoformat(), "local": t.astimezone(zone).isoformat()} for t in ticks
            ],
        }
    )


@router.get("/schedules/{schedule_id}")
async def show_schedule(
    schedule_id: str, c: ContainerDep, p: Annotated[Principal, acting("schedule.read")]
) -> Response:
    ws = p.workspace_id
    return json_response(schedule_view(await c.schedules.get(ws, schedule_id)))


@router.patch("/schedules/{schedule_id}")
async def patch_schedule(
    request: Request,
    schedule_id: str,
    body: SchedulePatch,
    c: ContainerDep,
    p: Annotated[Principal, acting("schedule.pause")],
) -> Response:
    ws = p.workspace_id
    enabled = body.enabled
    if enabled is None:
        raise ValidationFailed(
            "schedule change", [Problem("enabled", "give enabled: true or false")]
        )

    async def produce() -> tuple[int, Any]:
        return 200, schedule_view(await c.schedules.set_enabled(ws, schedule_id, enabled))

    return await idempotent(request, c, ws, produce, audit="schedule.update", ident=schedule_id)


@router.delete("/schedules/{schedule_id}", status_code=204)
async def delete_schedule(
    request: Request,
    schedule_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("schedule.delete")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.schedules.delete(ws, schedule_id)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="schedule.delete")

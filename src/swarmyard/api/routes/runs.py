"""/runs: a run, its events, stopping it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from ...domain import Principal
from ...services.views import run_view
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response

router = APIRouter(tags=["runs"])


@router.get("/runs/{run_id}")
async def show_run(
    run_id: str, c: ContainerDep, p: Annotated[Principal, acting("run.read")]
) -> Response:
    ws = p.workspace_id
    return json_response(run_view(await c.runs.get(ws, run_id)))


@router.get("/runs/{run_id}/events")
async def run_events(
    run_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("run.read")],
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> Response:
    ws = p.workspace_id
    events = await c.runs.events(ws, run_id, after=after, limit=limit)
    return json_response(
        {
            "items": [e.as_dict() for e in events],
            "next_after": events[-1].seq if len(events) == limit else None,
        }
    )


@router.post("/runs/{run_id}/stop", status_code=202)
async def stop_run(
    request: Request, run_id: str, c: ContainerDep, p: Annotated[Principal, acting("run.stop")]
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        return 202, run_view(await c.runs.stop(ws, run_id))

    return await idempotent(request, c, ws, produce, audit="run.stop")

"""/routing: the rules that pick a model tier (or models) for a call.

A workspace's own rules replace the platform file's, which replace the
shipped defaults; `source` says which are in force. Removing the
workspace's rules goes back to the next source down.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from ...domain import Principal
from ...domain.routing import RoutingRules
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response

router = APIRouter(tags=["routing"])


def _view(rules: RoutingRules, source: str) -> dict[str, Any]:
    return {"source": source, **rules.model_dump(mode="json")}


@router.get("/routing")
async def get_routing(c: ContainerDep, p: Annotated[Principal, acting("routing.read")]) -> Response:
    rules, source = await c.model_admin.routing(p.workspace_id)
    return json_response(_view(rules, source))


@router.put("/routing")
async def put_routing(
    request: Request,
    body: Annotated[dict[str, Any], Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("routing.write")],
) -> Response:
    """Replace the workspace's rules; every model they name must be configured."""
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        rules = await c.model_admin.put_routing(ws, body, by=p.actor)
        return 200, _view(rules, "workspace")

    return await idempotent(request, c, ws, produce, audit="routing.write", ident="workspace")


@router.delete("/routing", status_code=204)
async def reset_routing(
    request: Request, c: ContainerDep, p: Annotated[Principal, acting("routing.write")]
) -> Response:
    """Back to the platform file's rules, or the defaults: done whether or not
    the workspace had rules of its own, so a retry is not an error."""
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.model_admin.reset_routing(ws)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="routing.write", ident="workspace")

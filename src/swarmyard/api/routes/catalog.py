"""GET/POST /catalog: the marketplace of manifests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from ...catalog import parse_manifest
from ...domain import Principal
from ...services.views import manifest_view
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response

router = APIRouter(tags=["catalog"])


@router.get("/catalog")
async def list_catalog(
    c: ContainerDep, p: Annotated[Principal, acting("catalog.read")]
) -> Response:
    ws = p.workspace_id
    async with c.store.unit_of_work(ws) as uow:
        manifests = await c.catalog.list(uow)
    return json_response({"items": [manifest_view(m) for m in manifests], "next_cursor": None})


@router.get("/catalog/{manifest_id}")
async def show_manifest(
    manifest_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("catalog.read")],
    version: str | None = None,
) -> Response:
    ws = p.workspace_id
    async with c.store.unit_of_work(ws) as uow:
        manifest = await c.catalog.get(uow, manifest_id, version)
    return json_response(manifest_view(manifest))


@router.post("/catalog", status_code=201)
async def add_manifest(
    request: Request,
    c: ContainerDep,
    p: Annotated[Principal, acting("catalog.publish")],
    body: Annotated[dict[str, Any], Body()],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        manifest = parse_manifest(body, source="request body")
        return 201, manifest_view(await c.catalog.add(ws, manifest))

    return await idempotent(request, c, ws, produce, audit="catalog.publish")

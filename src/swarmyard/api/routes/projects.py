"""/projects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from ...domain import Principal
from ...ports import Page
from ...services.views import project_view
from ..context import ContainerDep, acting
from ..responses import MAX_LIMIT, idempotent, json_response, page_of
from ..schemas import ProjectCreate, ProjectPatch

router = APIRouter(tags=["projects"])


@router.get("/projects")
async def list_projects(
    c: ContainerDep,
    p: Annotated[Principal, acting("project.read")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Response:
    ws = p.workspace_id
    projects = await c.projects.list(ws, Page(limit=limit + 1, after=cursor))
    return json_response(page_of([project_view(p) for p in projects], limit))


@router.post("/projects", status_code=201)
async def create_project(
    request: Request,
    body: ProjectCreate,
    c: ContainerDep,
    p: Annotated[Principal, acting("project.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        p = await c.projects.create(
            ws, name=body.name, description=body.description, workdir=body.workdir
        )
        return 201, project_view(p)

    return await idempotent(request, c, ws, produce, audit="project.create")


@router.get("/projects/{project_id}")
async def show_project(
    project_id: str, c: ContainerDep, p: Annotated[Principal, acting("project.read")]
) -> Response:
    ws = p.workspace_id
    return json_response(project_view(await c.projects.get(ws, project_id)))


@router.patch("/projects/{project_id}")
async def patch_project(
    request: Request,
    project_id: str,
    body: ProjectPatch,
    c: ContainerDep,
    p: Annotated[Principal, acting("project.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        p = await c.projects.update(
            ws, project_id, name=body.name, description=body.description, workdir=body.workdir
        )
        return 200, project_view(p)

    return await idempotent(request, c, ws, produce, audit="project.update")


@router.delete("/projects/{project_id}", status_code=204)
async def delete_project(
    request: Request,
    project_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("project.delete")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.projects.delete(ws, project_id)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="project.delete")

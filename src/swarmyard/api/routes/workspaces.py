"""/workspaces and their members."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request, Response

from ...domain import DEFAULT_WORKSPACE, Conflict, Membership, NotFound, Principal, User
from ..context import ContainerDep, acting, authenticated
from ..responses import idempotent, json_response
from ..schemas import MemberAdd, MemberPatch, WorkspaceCreate

router = APIRouter(tags=["workspaces"])
log = structlog.get_logger("swarmyard.api")


def member_view(m: Membership, u: User) -> dict[str, Any]:
    return {
        "user_id": u.id,
        "email": u.email,
        "name": u.name,
        "role": m.role.value,
        "created_at": m.created_at.isoformat(),
    }


def _own(p: Principal, workspace_id: str) -> None:
    """Members' endpoints act in the caller's workspace; any other is not found."""
    if workspace_id != p.workspace_id:
        raise NotFound("workspace", workspace_id)


@router.get("/workspaces")
async def list_workspaces(
    c: ContainerDep, p: Annotated[Principal, Depends(authenticated)]
) -> Response:
    items = [
        {"id": ws.id, "name": ws.name, "role": role.value, "created_at": ws.created_at.isoformat()}
        for ws, role in await c.identity.workspaces_of(p)
    ]
    return json_response({"items": items, "next_cursor": None})


@router.post("/workspaces", status_code=201)
async def create_workspace(
    body: WorkspaceCreate, c: ContainerDep, p: Annotated[Principal, Depends(authenticated)]
) -> Response:
    ws = await c.identity.create_workspace(p, body.id, body.name)
    return json_response(
        {"id": ws.id, "name": ws.name, "role": "owner", "created_at": ws.created_at.isoformat()},
        201,
    )


@router.delete("/workspaces/{workspace_id}", status_code=204)
async def delete_workspace(
    workspace_id: str, c: ContainerDep, p: Annotated[Principal, acting("workspace.delete")]
) -> Response:
    _own(p, workspace_id)
    if workspace_id == DEFAULT_WORKSPACE:
        raise Conflict("the default workspace cannot be deleted; delete its contents instead")
    await c.store.delete_workspace(workspace_id)
    log.info("workspace deleted", workspace=workspace_id, actor=p.actor)
    return Response(status_code=204)


@router.get("/workspaces/{workspace_id}/members")
async def list_members(
    workspace_id: str, c: ContainerDep, p: Annotated[Principal, acting("member.read")]
) -> Response:
    _own(p, workspace_id)
    items = [member_view(m, u) for m, u in await c.identity.members(workspace_id)]
    return json_response({"items": items, "next_cursor": None})


@router.post("/workspaces/{workspace_id}/members", status_code=201)
async def add_member(
    request: Request,
    workspace_id: str,
    body: MemberAdd,
    c: ContainerDep,
    p: Annotated[Principal, acting("member.manage")],
) -> Response:
    _own(p, workspace_id)

    async def produce() -> tuple[int, Any]:
        m = await c.identity.add_member(
            p, email=body.email, role=body.role, name=body.name, password=body.password
        )
        members = dict((mm.user_id, u) for mm, u in await c.identity.members(workspace_id))
        return 201, member_view(m, members[m.user_id])

    return await idempotent(request, c, workspace_id, produce)


@router.patch("/workspaces/{workspace_id}/members/{user_id}")
async def set_member_role(
    workspace_id: str,
    user_id: str,
    body: MemberPatch,
    c: ContainerDep,
    p: Annotated[Principal, acting("member.manage")],
) -> Response:
    _own(p, workspace_id)
    m = await c.identity.set_role(p, user_id, body.role)
    members = dict((mm.user_id, u) for mm, u in await c.identity.members(workspace_id))
    return json_response(member_view(m, members[m.user_id]))


@router.delete("/workspaces/{workspace_id}/members/{user_id}", status_code=204)
async def remove_member(
    workspace_id: str,
    user_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("member.manage")],
) -> Response:
    _own(p, workspace_id)
    await c.identity.remove_member(p, user_id)
    return Response(status_code=204)

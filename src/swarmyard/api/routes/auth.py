"""/auth: sign in with a password, rotate refresh tokens, sign out, who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from ...authz import ACTIONS, authorize
from ...domain import Principal
from ..context import ContainerDep, authenticated, caller_ip
from ..responses import json_response
from ..schemas import RefreshRequest, TokenRequest

router = APIRouter(tags=["auth"])


@router.post("/auth/token")
async def token(request: Request, body: TokenRequest, c: ContainerDep) -> Response:
    pair = await c.auth.sign_in(body.email, body.password, body.workspace, caller_ip(request))
    return json_response(pair.as_dict())


@router.post("/auth/refresh")
async def refresh(request: Request, body: RefreshRequest, c: ContainerDep) -> Response:
    pair = await c.auth.refresh(body.refresh_token, caller_ip(request))
    return json_response(pair.as_dict())


@router.post("/auth/logout", status_code=204)
async def logout(body: RefreshRequest, c: ContainerDep) -> Response:
    await c.auth.logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/auth/me")
async def me(c: ContainerDep, p: Annotated[Principal, Depends(authenticated)]) -> Response:
    workspaces = await c.identity.workspaces_of(p)
    rules = await c.rules.get(p.workspace_id)
    # The UI offers only what the API would allow (workspace rules included).
    allowed = [a for a in ACTIONS if authorize(p, a, workspace_rules=rules).allowed]
    return json_response(
        {
            "principal": {
                "kind": p.kind,
                "id": p.id,
                "name": p.name,
                "workspace_id": p.workspace_id,
                "role": p.role.value,
            },
            "workspaces": [
                {"id": ws.id, "name": ws.name, "role": role.value} for ws, role in workspaces
            ],
            "actions": allowed,
        }
    )

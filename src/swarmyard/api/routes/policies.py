"""/policies: what runs may do — tools, sandboxing, limits, feature gates,
approvals — per workspace, role or agent (see domain/policy.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from ...domain import Principal, Problem, ValidationFailed
from ...services.policies import policy_view
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response

router = APIRouter(tags=["policies"])


@router.get("/policies")
async def list_policies(
    c: ContainerDep, p: Annotated[Principal, acting("policy.read")]
) -> Response:
    policies = await c.policies.list(p.workspace_id)
    return json_response({"items": [policy_view(x) for x in policies], "next_cursor": None})


@router.post("/policies", status_code=201)
async def create_policy(
    request: Request,
    body: Annotated[Any, Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("policy.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        policy = await c.policies.put(ws, body, by=p.actor, create=True)
        return 201, policy_view(policy)

    ident = body.get("name") if isinstance(body, dict) else None
    return await idempotent(request, c, ws, produce, audit="policy.create", ident=ident)


@router.get("/policies/{name}")
async def show_policy(
    name: str, c: ContainerDep, p: Annotated[Principal, acting("policy.read")]
) -> Response:
    return json_response(policy_view(await c.policies.get(p.workspace_id, name)))


@router.put("/policies/{name}")
async def replace_policy(
    request: Request,
    name: str,
    body: Annotated[Any, Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("policy.write")],
) -> Response:
    """Create or replace the policy `name`; the body's name, if given, must agree."""
    ws = p.workspace_id
    named = {**body, "name": body.get("name", name)} if isinstance(body, dict) else body

    async def produce() -> tuple[int, Any]:
        if isinstance(named, dict) and named["name"] != name:
            raise ValidationFailed(
                "policy", [Problem("name", f"the body names {named['name']!r}, the path {name!r}")]
            )
        policy = await c.policies.put(ws, named, by=p.actor, create=False)
        return 200, policy_view(policy)

    return await idempotent(request, c, ws, produce, audit="policy.write", ident=name)


@router.delete("/policies/{name}", status_code=204)
async def delete_policy(
    request: Request, name: str, c: ContainerDep, p: Annotated[Principal, acting("policy.write")]
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.policies.delete(ws, name, by=p.actor)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="policy.delete", ident=name)

"""/agents: install, list, scale, pause/resume and uninstall agents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from ...domain import ALL_TYPES, Principal, Problem, ValidationFailed
from ...services.views import agent_view, learning_view
from ..context import ContainerDep, acting, ensure
from ..responses import idempotent, json_response
from ..schemas import AgentCreate, AgentPatch

router = APIRouter(tags=["agents"])


@router.get("/agents")
async def list_agents(
    c: ContainerDep, p: Annotated[Principal, acting("agent.read")], role: str | None = None
) -> Response:
    ws = p.workspace_id
    now = c.deps.clock.now()
    agents = await c.registry.list(ws, role=role)
    return json_response({"items": [agent_view(a, now) for a in agents], "next_cursor": None})


@router.post("/agents", status_code=201)
async def install_agent(
    request: Request,
    body: AgentCreate,
    c: ContainerDep,
    p: Annotated[Principal, acting("agent.install")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        agent = await c.registry.install(
            ws, body.manifest, version=body.version, replicas=body.replicas, name=body.name
        )
        return 201, agent_view(agent, c.deps.clock.now())

    return await idempotent(request, c, ws, produce, audit="agent.install")


@router.get("/agents/{agent_id}")
async def show_agent(
    agent_id: str, c: ContainerDep, p: Annotated[Principal, acting("agent.read")]
) -> Response:
    ws = p.workspace_id
    return json_response(agent_view(await c.registry.get(ws, agent_id), c.deps.clock.now()))


@router.get("/agents/{agent_id}/learning")
async def agent_learning(
    agent_id: str, c: ContainerDep, p: Annotated[Principal, acting("agent.read")]
) -> Response:
    profiles = await c.registry.learning(p.workspace_id, agent_id)
    return json_response({"items": [learning_view(x) for x in profiles], "all_types": ALL_TYPES})


@router.patch("/agents/{agent_id}")
async def patch_agent(
    request: Request,
    agent_id: str,
    body: AgentPatch,
    c: ContainerDep,
    p: Annotated[Principal, acting("agent.read")],
) -> Response:
    ws = p.workspace_id
    if body.replicas is None and body.status is None:
        raise ValidationFailed("agent change", [Problem("", "give replicas and/or status")])
    if body.replicas is not None:
        await ensure(c, p, "agent.scale")
    if body.status is not None:
        await ensure(c, p, "agent.pause")

    async def produce() -> tuple[int, Any]:
        agent = await c.registry.get(ws, agent_id)
        if body.replicas is not None:
            agent = await c.registry.scale(ws, agent_id, body.replicas)
        if body.status is not None:
            agent = await c.registry.set_status(ws, agent_id, body.status)
        return 200, agent_view(agent, c.deps.clock.now())

    return await idempotent(request, c, ws, produce, audit="agent.update")


@router.delete("/agents/{agent_id}", status_code=204)
async def uninstall_agent(
    request: Request,
    agent_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("agent.uninstall")],
    force: bool = False,
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.registry.uninstall(ws, agent_id, force=force)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="agent.uninstall")

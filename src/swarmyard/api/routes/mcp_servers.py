"""/mcp-servers: the MCP servers a workspace registers, their health and tools.

A registration is a stdio command (`command`, `args`, `env`) or a streamable
HTTP endpoint (`url`, `headers`). `secret_env` and `secret_headers` are
write-only: sealed before they are stored, and only their names come back.
Health is what this process saw of the server; listing its tools or
probing it connects now (starting a stdio server if it is not running).
A change (PATCH) is validated as a registration is and closes the
server's session, so the next use connects with the new settings.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from ...domain import Principal
from ...services.mcp_servers import health_view, mcp_server_view
from ...services.mcp_tools import McpTool
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response

router = APIRouter(tags=["mcp"])


@router.get("/mcp-servers")
async def list_mcp_servers(
    c: ContainerDep, p: Annotated[Principal, acting("mcp.read")]
) -> Response:
    ws = p.workspace_id
    servers = await c.mcp_servers.list(ws)
    items = [mcp_server_view(s, c.mcp.health(ws, s.name)) for s in servers]
    return json_response({"items": items, "next_cursor": None})


@router.post("/mcp-servers", status_code=201)
async def register_mcp_server(
    request: Request,
    body: Annotated[Any, Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("mcp.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        server = await c.mcp_servers.register(ws, body, by=p.actor)
        return 201, mcp_server_view(server, c.mcp.health(ws, server.name))

    name = body.get("name") if isinstance(body, dict) else None
    ident = name if isinstance(name, str) else None
    return await idempotent(request, c, ws, produce, audit="mcp.register", ident=ident)


@router.get("/mcp-servers/{name}")
async def show_mcp_server(
    name: str, c: ContainerDep, p: Annotated[Principal, acting("mcp.read")]
) -> Response:
    ws = p.workspace_id
    server = await c.mcp_servers.get(ws, name)
    return json_response(mcp_server_view(server, c.mcp.health(ws, name)))


@router.get("/mcp-servers/{name}/tools")
async def discover_mcp_tools(
    name: str, c: ContainerDep, p: Annotated[Principal, acting("mcp.read")]
) -> Response:
    """List the server's tools now (502 `mcp_unavailable` naming the error)."""
    ws = p.workspace_id
    tools = await c.mcp.discover(ws, name)
    return json_response(
        {
            "server": name,
            "items": [_tool_view(t) for t in tools],
            "health": health_view(c.mcp.health(ws, name)),
        }
    )


@router.post("/mcp-servers/{name}/probe")
async def probe_mcp_server(
    name: str, c: ContainerDep, p: Annotated[Principal, acting("mcp.read")]
) -> Response:
    """Connect (restarting a dead server) and list its tools; the server
    with the health that came of it, healthy or not."""
    ws = p.workspace_id
    server = await c.mcp_servers.get(ws, name)
    health = await c.mcp.probe(ws, name)
    return json_response(mcp_server_view(server, health))


@router.patch("/mcp-servers/{name}")
async def update_mcp_server(
    request: Request,
    name: str,
    body: Annotated[Any, Body()],
    c: ContainerDep,
    p: Annotated[Principal, acting("mcp.write")],
) -> Response:
    """Change the fields given (each replaced whole; null: back to its
    default); the server's session closes and the next use connects anew."""
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        server = await c.mcp_servers.update(ws, name, body)
        return 200, mcp_server_view(server, c.mcp.health(ws, name))

    return await idempotent(request, c, ws, produce, audit="mcp.update", ident=name)


@router.delete("/mcp-servers/{name}", status_code=204)
async def remove_mcp_server(
    request: Request, name: str, c: ContainerDep, p: Annotated[Principal, acting("mcp.write")]
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.mcp_servers.remove(ws, name)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="mcp.remove", ident=name)


def _tool_view(tool: McpTool) -> dict[str, Any]:
    return {
        "name": tool.spec.name,
        "mcp_name": tool.mcp_name,
        "description": tool.spec.description,
        "input_schema": tool.spec.parameters,
        "effects": sorted(tool.spec.effects),
        "read_only_hint": tool.info.read_only,
        "open_world_hint": tool.info.open_world,
    }

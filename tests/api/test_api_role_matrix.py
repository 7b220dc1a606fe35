"""The role-by-endpoint matrix: each role is allowed exactly what the documented
table (authz.ACTIONS) says, on every route of the OpenAPI table."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from swarmyard.authz import ACTIONS
from swarmyard.domain import Role
from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings

# The action each route performs. A route missing here fails the test, so a
# new endpoint cannot ship without being placed in the matrix.
ROUTE_ACTIONS: dict[str, str | None] = {
    "get /auth/me": None,  # any authenticated caller
    "get /workspaces": None,
    "post /workspaces": None,  # creates a new workspace owned by the caller
    "delete /workspaces/{workspace_id}": "workspace.delete",
    "get /authz/rules": "policy.read",
    "put /authz/rules": "policy.write",
    "get /policies": "policy.read",
    "get /approvals": "run.read",
    "get /approvals/{approval_id}": "run.read",
    "post /approvals/{approval_id}/{verdict}": "approval.decide",
    "get /memory": "memory.read",
    "post /memory": "memory.write",
    "post /memory/reindex": "memory.write",
    "delete /memory/{memory_id}": "memory.write",
    "post /policies": "policy.write",
    "get /policies/{name}": "policy.read",
    "put /policies/{name}": "policy.write",
    "delete /policies/{name}": "policy.write",
    "get /workspaces/{workspace_id}/members": "member.read",
    "post /workspaces/{workspace_id}/members": "member.manage",
    "patch /workspaces/{workspace_id}/members/{user_id}": "member.manage",
    "delete /workspaces/{workspace_id}/members/{user_id}": "member.manage",
    "get /api-keys": "apikey.read",
    "post /api-keys": "apikey.manage",
    "delete /api-keys/{key_id}": "apikey.manage",
    "get /audit": "audit.read",
    "get /catalog": "catalog.read",
    "post /catalog": "catalog.publish",
    "get /catalog/{manifest_id}": "catalog.read",
    "get /agents": "agent.read",
    "post /agents": "agent.install",
    "get /agents/{agent_id}": "agent.read",
    "get /agents/{agent_id}/learning": "agent.read",
    "patch /agents/{agent_id}": "agent.scale",  # with {"replicas"}
    "delete /agents/{agent_id}": "agent.uninstall",
    "get /projects": "project.read",
    "post /projects": "project.write",
    "get /projects/{project_id}": "project.read",
    "patch /projects/{project_id}": "project.write",
    "delete /projects/{project_id}": "project.delete",
    "get /tasks": "task.read",
    "post /tasks": "task.create",
    "get /tasks/{task_id}": "task.read",
    "patch /tasks/{task_id}": "task.move",
    "delete /tasks/{task_id}": "task.cancel",
    "get /tasks/{task_id}/runs": "run.read",
    "get /tasks/{task_id}/graph": "run.read",
    "get /tasks/{task_id}/stream": "task.read",
    "get /board": "task.read",
    "get /runs/{run_id}": "run.read",
    "get /runs/{run_id}/events": "run.read",
    "post /runs/{run_id}/stop": "run.stop",
    "get /runs/{run_id}/stream": "run.read",
    "get /schedules": "schedule.read",
    "post /schedules": "schedule.create",
    "get /schedules/preview": "schedule.read",
    "get /schedules/{schedule_id}": "schedule.read",
    "patch /schedules/{schedule_id}": "schedule.pause",
    "delete /schedules/{schedule_id}": "schedule.delete",
    "post /tasks/estimate": "task.create",
    "get /budgets": "budget.read",
    "put /budgets": "budget.write",
    "delete /budgets/{scope}": "budget.write",
    "delete /budgets/{scope}/{scope_id}": "budget.write",
    "get /usage": "usage.read",
    "get /providers": "provider.read",
    "post /providers": "provider.write",
    "put /providers/{name}": "provider.write",
    "delete /providers/{name}": "provider.write",
    "get /prices": "price.read",
    "put /prices/{model}": "price.write",
    "delete /prices/{model}": "price.write",
    "get /routing": "routing.read",
    "put /routing": "routing.write",
    "delete /routing": "routing.write",
    "get /mcp-servers": "mcp.read",
    "post /mcp-servers": "mcp.write",
    "get /mcp-servers/{name}": "mcp.read",
    "get /mcp-servers/{name}/tools": "mcp.read",
    "post /mcp-servers/{name}/probe": "mcp.read",
    "patch /mcp-servers/{name}": "mcp.write",
    "delete /mcp-servers/{name}": "mcp.write",
    "get /skills": "skill.read",
    "post /skills": "skill.publish",
    "get /skills/{pack_id}": "skill.read",
    "get /skill-installations": "skill.read",
    "post /skill-installations": "skill.install",
    "patch /skill-installations/{pack_id}": "skill.install",
    "delete /skill-installations/{pack_id}": "skill.install",
}
PUBLIC = {
    "post /auth/token",
    "post /auth/refresh",
    "post /auth/logout",
    "get /healthz",
    "get /readyz",
}
FILL = {
    "workspace_id": "default",
    "user_id": "user_x",
    "key_id": "key_x",
    "manifest_id": "m-x",
    "agent_id": "agent_x",
    "project_id": "proj_x",
    "task_id": "task_x",
    "run_id": "run_x",
    "approval_id": "appr_x",
    "memory_id": "mem_x",
    "verdict": "approve",
    "schedule_id": "sched_x",
    "scope": "role",
    "scope_id": "nobody",
    "name": "no-such-provider",
    "model": "no-such-provider:model-x",
    "pack_id": "no-such-pack",
}


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Container]:
    """The shared platform, but with room for one request per route and role
    from one address: the matrix outgrew the default per-address limit."""
    container = build(embedded_settings(tmp_path, rate_limit_per_ip="5000/minute"))
    await container.start()
    try:
        yield container
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)


async def test_every_role_gets_exactly_its_rows(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    routes = {f"{m} {p.removeprefix('/api/v1')}" for p, ops in paths.items() for m in ops}
    assert routes - PUBLIC == set(ROUTE_ACTIONS), "classify every route in ROUTE_ACTIONS"
    keys = {}
    for role in Role:
        key = await api.post("/api-keys", json={"name": role.value, "role": role.value})
        keys[role] = key.json()["key"]
    for route, action in ROUTE_ACTIONS.items():
        method, path = route.split(" ", 1)
        url = path.format(**FILL)
        body = {"replicas": 1} if route == "patch /agents/{agent_id}" else {}
        for role, key in keys.items():
            r = await api.request(
                method.upper(),
                url,
                json=body if method != "get" else None,
                headers={"Authorization": f"Bearer {key}"},
            )
            allowed = action is None or role.rank >= ACTIONS[action].minimum_role.rank
            if allowed:
                assert r.status_code != 403, (role, route, r.text)
            else:
                assert r.status_code == 403, (role, route, r.status_code, r.text)
                assert r.json()["error"]["details"]["action"] == action

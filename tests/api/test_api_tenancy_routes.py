"""Every route of the OpenAPI table, called by workspace B on workspace A's objects:
always 404 with the same body as a missing object, never data."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from swarmyard.domain import Principal, Role, Workspace
from swarmyard.runtime.wiring import Container

CUSTOM = {
    "id": "a-only",
    "name": "A only",
    "version": "1.0.0",
    "role": "a-only",
    "system_prompt": "private",
    "capabilities": [{"id": "a-cap", "name": "A", "task_types": ["docs"]}],
}
BODIES: dict[str, dict[str, Any]] = {
    "patch /api/v1/agents/{agent_id}": {"replicas": 1},
    "patch /api/v1/projects/{project_id}": {"name": "mine now"},
    "patch /api/v1/tasks/{task_id}": {"status": "todo"},
    "patch /api/v1/workspaces/{workspace_id}/members/{user_id}": {"role": "viewer"},
    "post /api/v1/workspaces/{workspace_id}/members": {"email": "x@example.com", "role": "viewer"},
}
SKIP_PREFIX = ("/api/v1/auth/", "/healthz", "/readyz")


async def objects_of_a(api: httpx.AsyncClient, platform: Container) -> dict[str, str]:
    agent = (await api.post("/agents", json={"manifest": "developer"})).json()
    project = (await api.post("/projects", json={"name": "A"})).json()
    task = (
        await api.post(
            "/tasks", json={"title": "A task", "type": "bugfix", "project_id": project["id"]}
        )
    ).json()
    async with api.stream("GET", f"/tasks/{task['id']}/stream") as r:  # until its run starts
        async for line in r.aiter_lines():
            if '"run_id"' in line:
                run_id = json.loads(line.removeprefix("data: "))["run_id"]
                break
    schedule = (
        await api.post(
            "/schedules",
            json={"name": "A nightly", "cron": "0 2 * * *", "task": {"title": "n", "type": "docs"}},
        )
    ).json()
    key = (await api.post("/api-keys", json={"name": "A key", "role": "viewer"})).json()
    member = (
        await api.post(
            "/workspaces/default/members",
            json={"email": "a@example.com", "role": "member", "password": "a long password"},
        )
    ).json()
    assert (await api.post("/catalog", json=CUSTOM)).status_code == 201
    return {
        "agent_id": agent["id"],
        "project_id": project["id"],
        "task_id": task["id"],
        "run_id": run_id,
        "schedule_id": schedule["id"],
        "key_id": key["id"],
        "user_id": member["user_id"],
        "workspace_id": "default",
        "manifest_id": "a-only",
    }


async def test_workspace_b_reaches_nothing_of_workspace_a(
    api: httpx.AsyncClient, platform: Container
) -> None:
    ids = await objects_of_a(api, platform)
    await platform.store.add_workspace(Workspace("b", "B", platform.deps.clock.now()))
    _, b_key = await platform.identity.create_key(
        Principal("system", "test", "b", Role.OWNER), name="B owner", role="owner"
    )
    b = {"Authorization": f"Bearer {b_key}"}
    paths = (await api.get("/openapi.json")).json()["paths"]
    checked = 0
    for path, operations in paths.items():
        if path.startswith(SKIP_PREFIX):
            continue
        params = re.findall(r"\{(\w+)\}", path)
        for method in operations:
            body = BODIES.get(f"{method} {path}")
            url = path.removeprefix("/api/v1")
            if not params:
                if method == "get":
                    r = await api.get(url, headers=b)
                    assert r.status_code == 200, (path, r.text)
                    for value in ids.values():
                        if value != "default":
                            assert value not in r.text, (path, value)
                    checked += 1
                continue
            target = url.format(**ids)
            missing = url.format(
                **{k: f"{k}-nope" if k != "workspace_id" else "nope" for k in params}
            )
            got = await api.request(method.upper(), target, json=body, headers=b)
            absent = await api.request(method.upper(), missing, json=body, headers=b)
            assert got.status_code == absent.status_code == 404, (method, path, got.text)
            shown = got.text
            for k in params:
                shown = shown.replace(ids[k], f"{k}-nope" if k != "workspace_id" else "nope")
            assert json.loads(shown) == absent.json(), (method, path)
            checked += 1
    assert checked >= 30
    # and A still sees its own objects, untouched
    assert (await api.get(f"/tasks/{ids['task_id']}")).status_code == 200
    assert (await api.get(f"/agents/{ids['agent_id']}")).json()["replicas"] == 1

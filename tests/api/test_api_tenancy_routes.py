"""Every route of the OpenAPI table, called by workspace B on workspace A's objects:
always 404 with the same body as a missing object, never data."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx

from swarmyard.domain import Approval, Principal, Role, Workspace
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
    "put /api/v1/providers/{name}": {
        "kind": "openai-compatible",
        "base_url": "http://127.0.0.1:9/v1",
        "models": [{"name": "b-model"}],
    },
    "put /api/v1/prices/{model}": {"input_per_mtok": 99},
    "patch /api/v1/schedules/{schedule_id}": {"enabled": False},
    "put /api/v1/policies/{name}": {"denied_tools": ["fs.*"]},
    "patch /api/v1/skill-installations/{pack_id}": {"enabled": False},
    "patch /api/v1/mcp-servers/{name}": {"enabled": False},
}
# Lists that need a query to answer at all.
QUERIES: dict[str, dict[str, str]] = {"/api/v1/schedules/preview": {"cron": "0 2 * * *"}}
# Routes that set a value under a name in the caller's own workspace: B
# writing there creates B's own, and must leave A's alone.
# Each with the list that shows the value, and the field naming it.
UPSERTS = {
    "put /api/v1/prices/{model}": ("/prices", "model"),
    "put /api/v1/policies/{name}": ("/policies", "name"),
}
# Path values every workspace has in common (a workspace id, a budget
# scope): they identify nothing of A's, so other lists may show them.
SHARED_WORDS = {"workspace_id", "scope", "verdict"}
# Path words naming no object (an action): the same for the object and the missing one.
FIXED = {"verdict": "approve"}
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
    budget = {"scope": "project", "scope_id": project["id"], "monthly_cents": 100}
    assert (await api.put("/budgets", json=budget)).status_code == 200
    box = {"name": "a-box", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1"}
    box["models"] = [{"name": "a-model"}]  # type: ignore[assignment]
    assert (await api.post("/providers", json=box | {"api_key": "a-secret"})).status_code == 201
    assert (await api.put("/prices/a-box:a-model", json={"input_per_mtok": 1})).status_code == 200
    policy = {"name": "a-box", "approval_tools": ["a-tool"]}
    assert (await api.post("/policies", json=policy)).status_code == 201
    now = platform.deps.clock.now()
    approval = Approval(
        id="appr_a",
        workspace_id="default",
        run_id=run_id,
        task_id=task["id"],
        call_id="c1",
        tool="a-tool",
        rule="policy 'a-box': approval_tools",
        reason="A's secret reason",
        requested_at=now,
        deadline=now + timedelta(hours=1),
        args={"a": "private"},
    )
    async with platform.store.unit_of_work("default") as uow:
        await uow.approvals.add(approval)
        await uow.commit()
    pack = {"id": "a-pack", "name": "A", "version": "1.0.0", "instructions": "A's private way"}
    assert (await api.post("/skills", json=pack)).status_code == 201
    assert (await api.post("/skill-installations", json={"pack": "a-pack"})).status_code == 201
    memory = await api.post("/memory", json={"text": "A's private fact", "kind": "fact"})
    assert memory.status_code == 201, memory.text
    return {
        **FIXED,
        "approval_id": approval.id,
        "memory_id": memory.json()["id"],
        "agent_id": agent["id"],
        "project_id": project["id"],
        "task_id": task["id"],
        "run_id": run_id,
        "schedule_id": schedule["id"],
        "key_id": key["id"],
        "user_id": member["user_id"],
        "workspace_id": "default",
        "manifest_id": "a-only",
        "scope": "project",
        "scope_id": project["id"],
        "name": "a-box",
        "model": "a-box:a-model",
        "pack_id": "a-pack",
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
                    r = await api.get(url, headers=b, params=QUERIES.get(path))
                    assert r.status_code == 200, (path, r.text)
                    for name, value in ids.items():
                        if name not in SHARED_WORDS:
                            assert value not in r.text, (path, value)
                    checked += 1
                continue
            target = url.format(**ids)
            missing = url.format(
                **{k: FIXED.get(k, f"{k}-nope" if k != "workspace_id" else "nope") for k in params}
            )
            if (upsert := UPSERTS.get(f"{method} {path}")) is not None:
                await _own_copy_only(api, method.upper(), target, body, b, *upsert)
                checked += 1
                continue
            got = await api.request(method.upper(), target, json=body, headers=b)
            absent = await api.request(method.upper(), missing, json=body, headers=b)
            assert got.status_code == absent.status_code == 404, (method, path, got.text)
            shown = got.text
            for k in set(params) - set(FIXED):
                shown = shown.replace(ids[k], f"{k}-nope" if k != "workspace_id" else "nope")
            assert json.loads(shown) == absent.json(), (method, path)
            checked += 1
    assert checked >= 30
    # and A still sees its own objects, untouched
    assert [p["name"] for p in (await api.get("/providers")).json()["items"]] == [
        "a-box",
        "offline",
    ]
    assert len((await api.get("/budgets")).json()["items"]) == 1
    assert (await api.get(f"/tasks/{ids['task_id']}")).status_code == 200
    assert (await api.get(f"/agents/{ids['agent_id']}")).json()["replicas"] == 1


async def _own_copy_only(  # noqa: PLR0917 (the route, and where its value shows)
    api: httpx.AsyncClient,
    method: str,
    url: str,
    body: Any,
    b: dict[str, str],
    listed_at: str,
    key: str,
) -> None:
    """B's write lands in B's workspace: A's value is unchanged, and B's own
    copy is removed again so the routes after this one find nothing of B's."""
    before = (await api.get(listed_at)).json()
    r = await api.request(method, url, json=body, headers=b)
    assert r.status_code == 200, (url, r.text)
    assert (await api.get(listed_at)).json() == before
    assert [p[key] for p in (await api.get(listed_at, headers=b)).json()["items"]] == [
        r.json()[key]
    ]
    assert (await api.delete(url, headers=b)).status_code == 204

"""Bad input gets a clear 4xx JSON error naming the problem, and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

BAD_MANIFEST: dict[str, Any] = {
    "id": "helper",
    "name": "Helper",
    "version": "one",
    "role": "helper",
    "capabilities": [{"id": "x", "name": "X", "complexity": "extreme"}],
    "system_prompt": "help",
    "max_concurrent_tasks": -1,
    "colour": "blue",
}


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code
    assert body["message"]
    return body


async def snapshot(api: httpx.AsyncClient) -> tuple[Any, ...]:
    tasks = (await api.get("/tasks", params={"limit": 500})).json()["items"]
    agents = (await api.get("/agents")).json()["items"]
    catalog = (await api.get("/catalog")).json()["items"]
    return (
        sorted((t["id"], t["status"], t["version"], tuple(t["depends_on"])) for t in tasks),
        sorted((a["id"], a["replicas"], a["status"]) for a in agents),
        sorted(m["id"] for m in catalog),
    )


async def test_invalid_manifest_names_every_problem(api: httpx.AsyncClient) -> None:
    before = await snapshot(api)
    err = error_of(await api.post("/catalog", json=BAD_MANIFEST), 422, "validation_failed")
    paths = {p["path"] for p in err["details"]}
    assert {"version", "capabilities.0.complexity", "max_concurrent_tasks", "colour"} <= paths
    assert await snapshot(api) == before


async def test_unknown_role_and_type(api: httpx.AsyncClient) -> None:
    before = await snapshot(api)
    err = error_of(
        await api.post("/tasks", json={"title": "x", "type": "featur", "required_role": "wizard"}),
        422,
        "validation_failed",
    )
    reasons = {p["path"]: p["reason"] for p in err["details"]}
    assert "featur" in reasons["type"]
    assert "wizard" in reasons["required_role"]
    error_of(await api.post("/agents", json={"manifest": "wizard"}), 404, "not_found")
    assert await snapshot(api) == before


async def test_dependency_cycle_is_refused_naming_it(api: httpx.AsyncClient) -> None:
    a = (await api.post("/tasks", json={"title": "a", "type": "docs", "status": "backlog"})).json()
    b = (
        await api.post(
            "/tasks",
            json={"title": "b", "type": "docs", "status": "backlog", "depends_on": [a["id"]]},
        )
    ).json()
    before = await snapshot(api)
    err = error_of(
        await api.patch(f"/tasks/{a['id']}", json={"depends_on": [b["id"]]}), 409, "conflict"
    )
    assert err["details"]["cycle"] == [a["id"], b["id"], a["id"]]
    assert f"{a['id']} -> {b['id']} -> {a['id']}" in err["message"]
    error_of(await api.patch(f"/tasks/{a['id']}", json={"depends_on": [a["id"]]}), 409, "conflict")
    assert await snapshot(api) == before


async def test_illegal_board_move(api: httpx.AsyncClient) -> None:
    t = (await api.post("/tasks", json={"title": "t", "type": "docs", "status": "backlog"})).json()
    before = await snapshot(api)
    err = error_of(
        await api.patch(f"/tasks/{t['id']}", json={"status": "done"}), 409, "illegal_transition"
    )
    assert "'backlog'" in err["message"]
    assert "'done'" in err["message"]
    error_of(
        await api.patch(f"/tasks/{t['id']}", json={"status": "in_progress"}),
        409,
        "illegal_transition",
    )
    error_of(
        await api.patch(f"/tasks/{t['id']}", json={"status": "sideways"}), 422, "validation_failed"
    )
    assert await snapshot(api) == before


async def test_uninstall_with_dependants(api: httpx.AsyncClient) -> None:
    error_of(
        await api.post("/agents", json={"manifest": "code-reviewer"}), 409, "missing_dependencies"
    )
    dev = (await api.post("/agents", json={"manifest": "developer"})).json()
    await api.post("/agents", json={"manifest": "code-reviewer"})
    before = await snapshot(api)
    err = error_of(await api.delete(f"/agents/{dev['id']}"), 409, "has_dependants")
    assert err["details"]["dependants"] == ["code-reviewer-1"]
    assert await snapshot(api) == before
    assert (await api.delete(f"/agents/{dev['id']}", params={"force": "true"})).status_code == 204


async def test_unknown_ids_are_404(api: httpx.AsyncClient) -> None:
    before = await snapshot(api)
    for method, path in (
        ("GET", "/tasks/task_nope"),
        ("PATCH", "/tasks/task_nope"),
        ("DELETE", "/tasks/task_nope"),
        ("GET", "/runs/run_nope"),
        ("GET", "/runs/run_nope/events"),
        ("POST", "/runs/run_nope/stop"),
        ("GET", "/agents/agent_nope"),
        ("DELETE", "/agents/agent_nope"),
        ("GET", "/catalog/nope"),
        ("GET", "/schedules/sched_nope"),
    ):
        body = {"status": "todo"} if method == "PATCH" else None
        r = await api.request(method, path, json=body)
        error_of(r, 404, "not_found")
    r = await api.get("/tasks", headers={"X-Swarmyard-Workspace": "elsewhere"})
    error_of(r, 404, "not_found")
    assert await snapshot(api) == before


async def test_malformed_bodies(api: httpx.AsyncClient) -> None:
    r = await api.post("/tasks", content=b"{not json", headers={"content-type": "application/json"})
    error_of(r, 422, "validation_failed")
    err = error_of(
        await api.post("/tasks", json={"title": "t", "type": "docs", "workspace_id": "other"}),
        422,
        "validation_failed",
    )
    assert err["details"][0]["path"] == "workspace_id"
    error_of(
        await api.post(
            "/tasks", content=b"x" * 1_100_000, headers={"content-type": "application/json"}
        ),
        413,
        "payload_too_large",
    )
    error_of(
        await api.post(
            "/schedules",
            json={"name": "n", "cron": "61 * * * *", "task": {"title": "t", "type": "docs"}},
        ),
        422,
        "validation_failed",
    )
    err = error_of(
        await api.post(
            "/schedules",
            json={"name": "n", "cron": "* * * * * */5", "task": {"title": "t", "type": "docs"}},
        ),
        422,
        "validation_failed",
    )
    assert "minimum interval" in err["message"]


async def test_idempotency_key_replays_instead_of_acting_twice(api: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "k-1"}
    body = {"title": "once", "type": "docs", "status": "backlog"}
    first = await api.post("/tasks", json=body, headers=headers)
    second = await api.post("/tasks", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    tasks = (await api.get("/tasks", params={"q": "once"})).json()["items"]
    assert len(tasks) == 1
    error_of(
        await api.post("/tasks", json={**body, "title": "twice"}, headers=headers),
        422,
        "idempotency_key_reused",
    )

"""SSE streams replay stored events exactly once and in order; tenants stay apart."""

from __future__ import annotations

import json
from typing import Any

import httpx

from swarmyard.domain import Principal, Role, Workspace
from swarmyard.runtime.wiring import Container


def parse_sse(text: str) -> list[tuple[str, str | None, Any]]:
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if fields:
            out.append((fields["event"], fields.get("id"), json.loads(fields["data"])))
    return out


async def run_feature(api: httpx.AsyncClient) -> dict[str, Any]:
    for role in ("developer", "code-reviewer", "tester"):
        assert (await api.post("/agents", json={"manifest": role})).status_code == 201
    task = (await api.post("/tasks", json={"title": "Export", "type": "implementation"})).json()
    # the task stream ends when the task settles: this is how a client waits
    r = await api.get(f"/tasks/{task['id']}/stream")
    frames = parse_sse(r.text)
    assert frames[-1][0] == "end"
    assert frames[-1][2]["status"] == "done"
    return task


async def test_task_stream_carries_the_whole_tree(api: httpx.AsyncClient) -> None:
    task = await run_feature(api)
    frames = parse_sse((await api.get(f"/tasks/{task['id']}/stream")).text)
    tasks = {f[2]["id"] for f in frames if f[0] == "task"}
    assert len(tasks) == 3  # implementation + review + test
    events = [f[2] for f in frames if f[0] == "run_event"]
    keys = [(e["run_id"], e["seq"]) for e in events]
    assert len(keys) == len(set(keys))
    for run_id in {e["run_id"] for e in events}:
        stored = (await api.get(f"/runs/{run_id}/events")).json()["items"]
        assert [e["seq"] for e in events if e["run_id"] == run_id] == [e["seq"] for e in stored]


async def test_run_stream_replays_and_resumes_after_last_event_id(api: httpx.AsyncClient) -> None:
    task = await run_feature(api)
    run = (await api.get(f"/tasks/{task['id']}/runs")).json()["items"][0]
    stored = (await api.get(f"/runs/{run['id']}/events")).json()["items"]
    frames = parse_sse((await api.get(f"/runs/{run['id']}/stream")).text)
    assert [int(f[1] or 0) for f in frames] == [e["seq"] for e in stored]
    assert frames[-1][0] == "completed"
    resumed = parse_sse(
        (await api.get(f"/runs/{run['id']}/stream", headers={"Last-Event-ID": "3"})).text
    )
    assert [int(f[1] or 0) for f in resumed] == [e["seq"] for e in stored if e["seq"] > 3]


async def test_another_workspace_sees_nothing(api: httpx.AsyncClient, platform: Container) -> None:
    await platform.store.add_workspace(Workspace("other", "Other", platform.deps.clock.now()))
    system = Principal("system", "test", "other", Role.OWNER)
    _, other_key = await platform.identity.create_key(system, name="other", role="owner")
    task = (
        await api.post("/tasks", json={"title": "secret", "type": "docs", "status": "backlog"})
    ).json()
    other = {"Authorization": f"Bearer {other_key}"}
    missing = await api.get("/tasks/task_doesnotexist", headers=other)
    foreign = await api.get(f"/tasks/{task['id']}", headers=other)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    assert (await api.get("/tasks", headers=other)).json()["items"] == []
    assert (
        await api.patch(f"/tasks/{task['id']}", json={"status": "todo"}, headers=other)
    ).status_code == 404
    assert (await api.get(f"/tasks/{task['id']}/stream", headers=other)).status_code == 404
    # a key of the default workspace cannot step into the other one
    wrong = await api.get("/tasks", headers={"X-Swarmyard-Workspace": "other"})
    assert wrong.status_code == 404
    assert (await api.get(f"/tasks/{task['id']}")).json()["status"] == "backlog"

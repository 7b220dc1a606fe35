"""POST /tasks/estimate: the role the orchestrator would give the task, the
router's choice for it now and its likely cost; nothing is created."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from swarmyard.domain import DEFAULT_WORKSPACE, LedgerEntry
from swarmyard.runtime.wiring import Container

OFFLINE = "offline:swarmyard-offline-1"


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code
    return body


async def estimate(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    r = await api.post("/tasks/estimate", json={"title": "Add CSV export"} | body)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


async def test_without_agents_the_built_in_role_of_the_type_decides(
    api: httpx.AsyncClient,
) -> None:
    found = await estimate(api, type="feature")
    assert found["role"] == "architect"  # the built-in role that claims feature tasks
    assert found["manifest"].startswith("architect@")
    assert found["agent_id"] is None
    assert found["model"] == OFFLINE  # the only model configured
    assert found["chain"] == [OFFLINE]
    assert found["budget"] == "normal"
    assert (found["expected_usd"], found["low_usd"], found["high_usd"]) == (0.0, 0.0, 0.0)
    assert found["runs_seen"] == 0
    assert "no past runs" in found["basis"]
    assert set(found) >= {"tier", "reason", "max_per_call_usd"}


FRONTEND = {
    "id": "frontend-dev",
    "name": "Frontend developer",
    "version": "1.0.0",
    "role": "frontend",
    "description": "Builds screens.",
    "capabilities": [
        {"id": "screens", "name": "Screens", "complexity": "high", "task_types": ["feature"]}
    ],
    "model": {"tier": "fast"},
    "system_prompt": "You build screens.",
}


async def test_an_installed_agent_that_may_take_it_decides(api: httpx.AsyncClient) -> None:
    assert (await api.post("/catalog", json=FRONTEND)).status_code == 201, "manifest published"
    agent = (await api.post("/agents", json={"manifest": "frontend-dev"})).json()
    found = await estimate(api, type="feature")
    assert (found["role"], found["agent_id"]) == ("frontend", agent["id"])
    assert found["manifest"] == "frontend-dev@1.0.0"
    assert found["tier"] == "fast"  # the agent's manifest, not the architect's
    # A role asked for by name wins over the agent that could take the type.
    found = await estimate(api, type="feature", required_role="tester")
    assert (found["role"], found["agent_id"]) == ("tester", None)


async def test_paused_agents_take_nothing(api: httpx.AsyncClient) -> None:
    await api.post("/catalog", json=FRONTEND)
    agent = (await api.post("/agents", json={"manifest": "frontend-dev"})).json()
    await api.patch(f"/agents/{agent['id']}", json={"status": "inactive"})
    assert (await estimate(api, type="feature"))["role"] == "architect"


async def test_past_runs_give_the_spread(api: httpx.AsyncClient, platform: Container) -> None:
    async with platform.store.unit_of_work(DEFAULT_WORKSPACE) as uow:
        for n, cost in enumerate([100_000, 500_000, 300_000, 200_000, 400_000]):
            await uow.ledger.add(
                LedgerEntry(
                    id=f"led_{n}",
                    workspace_id=DEFAULT_WORKSPACE,
                    at=datetime(2026, 1, 5 + n, tzinfo=UTC),
                    provider="openai",
                    model="gpt-4.1",
                    cost_microusd=cost,
                    run_id=f"run_{n}",
                    role="tester",
                    task_type="test",
                )
            )
        await uow.commit()
    found = await estimate(api, type="test")
    assert found["role"] == "tester"
    assert (found["expected_usd"], found["low_usd"], found["high_usd"]) == (0.3, 0.1, 0.5)
    assert found["runs_seen"] == 5
    assert found["basis"] == "the last 5 tester runs of test tasks"


async def test_a_spent_budget_shows_in_the_estimate(api: httpx.AsyncClient) -> None:
    body = {"scope": "role", "scope_id": "architect", "weekly_cents": 0, "on_exceed": "refuse"}
    assert (await api.put("/budgets", json=body)).status_code == 200
    found = await estimate(api, type="design")
    assert found["budget"] == "exceeded"
    assert "role architect" in found["reason"]


async def test_nothing_is_created_or_held(api: httpx.AsyncClient) -> None:
    await api.put("/budgets", json={"scope": "workspace", "monthly_cents": 1000})
    project = (await api.post("/projects", json={"name": "alpha"})).json()
    for _ in range(2):
        await estimate(api, type="bugfix", project_id=project["id"], priority="urgent")
    assert (await api.get("/tasks")).json()["items"] == []
    columns = (await api.get("/board")).json()["columns"]
    assert all(cards == [] for cards in columns.values())
    [budget] = (await api.get("/budgets")).json()["items"]
    assert budget["windows"][0]["reserved_cents"] == 0
    assert (await api.get("/audit", params={"action": "task."})).json()["items"] == []


async def test_bad_tasks_cannot_be_estimated(api: httpx.AsyncClient) -> None:
    for body, path in [
        ({"title": "", "type": "feature"}, "title"),
        ({"title": "x", "type": "juggling"}, "type"),
        ({"title": "x", "type": "feature", "required_role": "wizard"}, "required_role"),
        ({"title": "x", "type": "feature", "project_id": "prj_nope"}, "project_id"),
        ({"title": "x", "type": "feature", "depends_on": ["task_nope"]}, "depends_on"),
        ({"title": "x", "type": "feature", "complexity": "galactic"}, "complexity"),
        ({"title": "x", "type": "feature", "budget": 5}, "budget"),
    ]:
        err = error_of(await api.post("/tasks/estimate", json=body), 422, "validation_failed")
        assert path in {p["path"] for p in err["details"]}, (body, err)
    assert (await api.get("/tasks")).json()["items"] == []


async def test_members_estimate_and_viewers_do_not(api: httpx.AsyncClient) -> None:
    headers = {}
    for role in ("member", "viewer"):
        key = (await api.post("/api-keys", json={"name": role, "role": role})).json()["key"]
        headers[role] = {"Authorization": f"Bearer {key}"}
    body = {"title": "x", "type": "docs"}
    r = await api.post("/tasks/estimate", json=body, headers=headers["member"])
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "documenter"
    r = await api.post("/tasks/estimate", json=body, headers=headers["viewer"])
    assert error_of(r, 403, "forbidden")["details"]["action"] == "task.create"

"""/budgets and /usage over HTTP: limits in cents, windows counted from the
ledger, usage grouped and filtered, bad input named and changing nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from swarmyard.domain import DEFAULT_WORKSPACE, FakeClock, LedgerEntry
from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings

# A Wednesday: its ISO week began on Monday the 16th, its month on the 1st.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Container]:
    """The conftest platform on a clock that stands still, so budget windows
    and date filters are the same whenever the test runs."""
    container = build(embedded_settings(tmp_path), clock=FakeClock(NOW))
    await container.start()
    try:
        yield container
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)


async def spend(platform: Container, *entries: dict[str, Any]) -> None:
    """Ledger entries as the router writes them after each model call."""
    async with platform.store.unit_of_work(DEFAULT_WORKSPACE) as uow:
        for n, fields in enumerate(entries):
            values: dict[str, Any] = {
                "id": f"led_{n}",
                "workspace_id": DEFAULT_WORKSPACE,
                "at": NOW - timedelta(hours=1),
                "provider": "openai",
                "model": "gpt-4o-mini",
            } | fields
            await uow.ledger.add(LedgerEntry(**values))
        await uow.commit()


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code
    return body


# ------------------------------------------------------------------ budgets


async def test_a_budget_is_set_listed_and_removed(api: httpx.AsyncClient) -> None:
    assert (await api.get("/budgets")).json() == {"items": []}
    r = await api.put(
        "/budgets",
        json={
            "scope": "role",
            "scope_id": "developer",
            "monthly_cents": 500,
            "weekly_cents": 150,
            "on_exceed": "refuse",
        },
    )
    assert r.status_code == 200, r.text
    budget = r.json()
    assert budget["scope"] == "role"
    assert budget["scope_id"] == "developer"
    assert (budget["monthly_cents"], budget["weekly_cents"]) == (500, 150)
    assert budget["on_exceed"] == "refuse"
    assert budget["updated_at"] == NOW.isoformat()
    assert budget["updated_by"].startswith("api_key:")
    assert [(w["period"], w["window_start"], w["limit_cents"]) for w in budget["windows"]] == [
        ("month", "2026-11-01", 500),
        ("week", "2026-11-16", 150),
    ]
    assert all(w["spent_cents"] == 0 and w["tier"] == "normal" for w in budget["windows"])
    assert (await api.get("/budgets")).json() == {"items": [budget]}

    r = await api.delete("/budgets/role/developer")
    assert r.status_code == 204
    assert r.content == b""
    assert (await api.get("/budgets")).json() == {"items": []}
    error_of(await api.delete("/budgets/role/developer"), 404, "not_found")


async def test_a_workspace_budget_is_removed_by_its_scope_alone(api: httpx.AsyncClient) -> None:
    r = await api.put("/budgets", json={"scope": "workspace", "monthly_cents": 10_000})
    assert r.status_code == 200, r.text
    assert r.json()["weekly_cents"] is None
    assert r.json()["on_exceed"] == "fallback"
    assert [w["period"] for w in r.json()["windows"]] == ["month"]
    assert (await api.delete("/budgets/workspace")).status_code == 204
    assert (await api.get("/budgets")).json() == {"items": []}
    error_of(await api.delete("/budgets/galaxy"), 404, "not_found")


async def test_putting_again_replaces_the_budget(api: httpx.AsyncClient) -> None:
    body = {"scope": "role", "scope_id": "tester", "monthly_cents": 100}
    await api.put("/budgets", json=body)
    r = await api.put("/budgets", json=body | {"monthly_cents": None, "weekly_cents": 40})
    assert (r.json()["monthly_cents"], r.json()["weekly_cents"]) == (None, 40)
    items = (await api.get("/budgets")).json()["items"]
    assert [(b["scope_id"], b["monthly_cents"], b["weekly_cents"]) for b in items] == [
        ("tester", None, 40)
    ]


async def test_windows_count_what_the_ledger_already_holds(
    api: httpx.AsyncClient, platform: Container
) -> None:
    await spend(
        platform,
        {"role": "developer", "cost_microusd": 1_234_500},  # 123.45 cents, this week
        {"role": "developer", "cost_microusd": 3_000_000, "at": datetime(2026, 11, 3, tzinfo=UTC)},
        {"role": "developer", "cost_microusd": 9_000_000, "at": datetime(2026, 10, 30, tzinfo=UTC)},
        {"role": "tester", "cost_microusd": 5_000_000},
    )
    r = await api.put(
        "/budgets",
        json={"scope": "role", "scope_id": "developer", "monthly_cents": 500, "weekly_cents": 200},
    )
    month, week = r.json()["windows"]
    assert month["spent_cents"] == 423.45  # this month: this week's and the 3rd's
    assert month["utilisation"] == pytest.approx(0.8469)
    assert month["tier"] == "economy"  # above 80%
    assert week["spent_cents"] == 123.45
    assert week["tier"] == "normal"
    assert (await api.get("/budgets")).json()["items"][0]["windows"] == [month, week]


BAD_BUDGETS: list[tuple[dict[str, Any], set[str]]] = [
    ({"scope": "galaxy", "monthly_cents": 1}, {"scope"}),
    ({"scope": "role", "monthly_cents": 1}, {"scope_id"}),
    ({"scope": "workspace", "scope_id": "x", "monthly_cents": 1}, {"scope_id"}),
    ({"scope": "role", "scope_id": "developer"}, {""}),
    ({"scope": "role", "scope_id": "developer", "monthly_cents": -1}, {"monthly_cents"}),
    ({"scope": "role", "scope_id": "developer", "weekly_cents": 10**12}, {"weekly_cents"}),
    ({"scope": "role", "scope_id": "developer", "monthly_cents": 1.5}, {"monthly_cents"}),
    ({"scope": "role", "scope_id": "dev", "monthly_cents": 1, "on_exceed": "cry"}, {"on_exceed"}),
    ({"scope": "workspace", "monthly_cents": 1, "limit": 5}, {"limit"}),
]


async def test_bad_budgets_are_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    await api.put("/budgets", json={"scope": "workspace", "monthly_cents": 700})
    before = (await api.get("/budgets")).json()
    for body, paths in BAD_BUDGETS:
        err = error_of(await api.put("/budgets", json=body), 422, "validation_failed")
        assert {p["path"] for p in err["details"]} == paths, (body, err)
    error_of(
        await api.put(
            "/budgets", json={"scope": "project", "scope_id": "prj_x", "weekly_cents": 1}
        ),
        404,
        "not_found",
    )
    error_of(
        await api.put("/budgets", json={"scope": "agent", "scope_id": "agt_x", "weekly_cents": 1}),
        404,
        "not_found",
    )
    assert (await api.get("/budgets")).json() == before


async def test_project_and_agent_budgets_name_existing_objects(api: httpx.AsyncClient) -> None:
    project = (await api.post("/projects", json={"name": "alpha"})).json()
    agent = (await api.post("/agents", json={"manifest": "developer"})).json()
    for scope, ident in (("project", project["id"]), ("agent", agent["id"])):
        r = await api.put("/budgets", json={"scope": scope, "scope_id": ident, "weekly_cents": 9})
        assert r.status_code == 200, r.text
    listed = {(b["scope"], b["scope_id"]) for b in (await api.get("/budgets")).json()["items"]}
    assert listed == {("project", project["id"]), ("agent", agent["id"])}
    assert (await api.delete(f"/budgets/agent/{agent['id']}")).status_code == 204


async def test_budget_changes_are_audited_and_idempotent(api: httpx.AsyncClient) -> None:
    body = {"scope": "role", "scope_id": "developer", "monthly_cents": 250}
    key = {"Idempotency-Key": "budget-1"}
    first = await api.put("/budgets", json=body, headers=key)
    again = await api.put("/budgets", json=body, headers=key)
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    error_of(
        await api.put("/budgets", json=body | {"monthly_cents": 1}, headers=key),
        422,
        "idempotency_key_reused",
    )
    await api.put("/budgets", json={"scope": "galaxy", "monthly_cents": 1})
    await api.delete("/budgets/role/developer")
    entries = (await api.get("/audit", params={"action": "budget.write"})).json()["items"]
    assert sorted((e["resource"], e["result"]) for e in entries) == [
        ("budget:galaxy", "failed: validation_failed"),
        ("budget:role:developer", "ok"),  # the PUT, once for its two requests
        ("budget:role:developer", "ok"),  # the DELETE
    ]


# ------------------------------------------------------------------ usage

LEDGER: list[dict[str, Any]] = [
    {"role": "developer", "task_type": "feature", "tokens_in": 1000, "tokens_out": 200,
     "tokens_cached": 100, "cost_microusd": 2_500_000, "project_id": "prj_1"},
    {"role": "developer", "task_type": "bugfix", "tokens_in": 500, "tokens_out": 50,
     "cost_microusd": 500_000, "ok": False, "error": "timeout"},
    {"role": "tester", "task_type": "test", "tokens_in": 300, "tokens_out": 30,
     "cost_microusd": 0, "provider": "ollama", "model": "llama3.1:8b",
     "at": datetime(2026, 11, 2, 9, tzinfo=UTC)},
    {"role": "tester", "task_type": "test", "tokens_in": 10, "tokens_out": 1,
     "cost_microusd": 1_000, "at": datetime(2026, 10, 31, 23, 59, tzinfo=UTC)},
]  # fmt: skip


async def test_usage_groups_and_totals(api: httpx.AsyncClient, platform: Container) -> None:
    await spend(platform, *LEDGER)
    r = await api.get("/usage", params={"group_by": "role"})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["group_by"] == "role"
    assert report["items"] == [
        {"key": "developer", "calls": 2, "failed_calls": 1, "tokens_in": 1500,
         "tokens_out": 250, "tokens_cached": 100, "cost_usd": 3.0},
        {"key": "tester", "calls": 2, "failed_calls": 0, "tokens_in": 310,
         "tokens_out": 31, "tokens_cached": 0, "cost_usd": 0.001},
    ]  # fmt: skip
    assert report["totals"] == {
        "calls": 4,
        "failed_calls": 1,
        "tokens_in": 1810,
        "tokens_out": 281,
        "tokens_cached": 100,
        "cost_usd": 3.001,
    }
    by_model = (await api.get("/usage")).json()
    assert by_model["group_by"] == "model"
    assert [i["key"] for i in by_model["items"]] == ["openai:gpt-4o-mini", "ollama:llama3.1:8b"]
    by_project = (await api.get("/usage", params={"group_by": "project"})).json()
    assert {i["key"]: i["calls"] for i in by_project["items"]} == {"prj_1": 1, "": 3}


async def test_usage_filters(api: httpx.AsyncClient, platform: Container) -> None:
    await spend(platform, *LEDGER)

    async def calls(**params: str) -> int:
        r = await api.get("/usage", params={"group_by": "provider", **params})
        assert r.status_code == 200, r.text
        total: int = r.json()["totals"]["calls"]
        return total

    assert await calls(since="2026-11-01") == 3
    assert await calls(until="2026-10-31") == 1  # a bare date takes its whole day in
    assert await calls(until="2026-10-31T23:59:00Z") == 0  # a time is excluded
    assert await calls(since="2026-11-02T09:00:00+00:00", until="2026-11-02T10:00:00") == 1
    assert await calls(role="developer") == 2
    assert await calls(task_type="test") == 2
    assert await calls(provider="ollama") == 1
    assert await calls(project="prj_1") == 1
    assert await calls(role="developer", task_type="feature", provider="openai") == 1
    limited = (await api.get("/usage", params={"group_by": "task_type", "limit": 1})).json()
    assert [i["key"] for i in limited["items"]] == ["feature"]  # the costliest group
    assert limited["totals"]["calls"] == 4  # the totals are over every group


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"group_by": "colour"}, "group_by"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"until": "9999-12-31"}, "until"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "since"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_usage_queries_name_the_parameter(
    api: httpx.AsyncClient, params: dict[str, str], path: str
) -> None:
    err = error_of(await api.get("/usage", params=params), 422, "validation_failed")
    assert [p["path"] for p in err["details"]] == [path]


# ------------------------------------------------------------------ roles


async def keys_for(api: httpx.AsyncClient, *roles: str) -> dict[str, dict[str, str]]:
    headers = {}
    for role in roles:
        key = (await api.post("/api-keys", json={"name": role, "role": role})).json()["key"]
        headers[role] = {"Authorization": f"Bearer {key}"}
    return headers


async def test_viewers_read_budgets_and_usage_but_set_nothing(api: httpx.AsyncClient) -> None:
    as_ = await keys_for(api, "viewer", "member")
    await api.put("/budgets", json={"scope": "workspace", "monthly_cents": 100})
    assert (await api.get("/budgets", headers=as_["viewer"])).json()["items"]
    assert (await api.get("/usage", headers=as_["viewer"])).status_code == 200
    for role in ("viewer", "member"):
        body = {"scope": "workspace", "monthly_cents": 1}
        err = error_of(await api.put("/budgets", json=body, headers=as_[role]), 403, "forbidden")
        assert err["details"]["action"] == "budget.write"
        r = await api.delete("/budgets/workspace", headers=as_[role])
        assert r.status_code == 403
    [budget] = (await api.get("/budgets")).json()["items"]
    assert budget["monthly_cents"] == 100

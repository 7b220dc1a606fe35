"""GET /agents/{id}/learning: what an agent has learned per task type, as the
orchestrator scores it, after real runs."""

from __future__ import annotations

import httpx


async def test_a_finished_run_shows_in_the_profiles(api: httpx.AsyncClient) -> None:
    agent = (await api.post("/agents", json={"manifest": "documenter"})).json()
    fresh = (await api.get(f"/agents/{agent['id']}/learning")).json()
    assert fresh["items"] == []
    task = (await api.post("/tasks", json={"title": "Write the FAQ", "type": "docs"})).json()
    # The task stream ends once the task settles: the run and its learning are stored.
    await api.get(f"/tasks/{task['id']}/stream")
    body = (await api.get(f"/agents/{agent['id']}/learning")).json()
    profiles = {p["task_type"]: p for p in body["items"]}
    assert set(profiles) == {"docs", body["all_types"]}
    docs = profiles["docs"]
    assert docs["executions"] == 1
    assert docs["success_rate"] > 0.5
    assert docs["expertise"] == docs["success_rate"]
    assert 0 < docs["confidence"] < 1
    assert docs["avg_duration_s"] >= 0
    assert docs["updated_at"]


async def test_an_unknown_agent_is_named(api: httpx.AsyncClient) -> None:
    r = await api.get("/agents/agent_nope/learning")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"

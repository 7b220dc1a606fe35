"""/policies over HTTP: created, listed, replaced and removed; every problem
of a bad policy named at once and nothing stored; changes audited."""

from __future__ import annotations

from typing import Any

import httpx

from swarmyard.runtime.wiring import Container

CAREFUL = {
    "name": "careful-devs",
    "scope": "role",
    "scope_id": "developer",
    "denied_tools": ["git.push"],
    "approval_tools": ["git.commit"],
    "max_cost_usd_per_run": 0.5,
    "max_steps": 12,
    "features": {"egress": False},
}


async def test_a_policy_is_created_replaced_and_removed(
    api: httpx.AsyncClient, platform: Container
) -> None:
    r = await api.post("/policies", json=CAREFUL)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["max_cost_usd_per_run"] == 0.5
    assert made["untrusted_egress"] == "approve"
    assert made["allowed_tools"] is None
    listed = (await api.get("/policies")).json()["items"]
    assert [p["name"] for p in listed] == ["careful-devs"]

    again = await api.post("/policies", json=CAREFUL)
    assert again.status_code == 409
    assert "PUT /policies/careful-devs" in again.json()["error"]["message"]

    replaced = await api.put("/policies/careful-devs", json={**CAREFUL, "max_steps": 30})
    assert replaced.status_code == 200
    assert replaced.json()["max_steps"] == 30
    assert replaced.json()["created_at"] == made["created_at"]

    # What a developer's run is held to now, as the loop will read it.
    effective = await platform.policies.effective("default", "developer", None)
    assert effective.max_steps is not None
    assert (effective.max_steps.value, effective.max_steps.policy) == (30, "careful-devs")
    assert effective.feature_off("egress") == "careful-devs"

    assert (await api.delete("/policies/careful-devs")).status_code == 204
    assert (await api.get("/policies/careful-devs")).status_code == 404
    assert (await api.delete("/policies/careful-devs")).status_code == 404

    actions = [e["action"] for e in (await api.get("/audit")).json()["items"]]
    assert {"policy.create", "policy.write", "policy.delete"} <= set(actions)


async def test_every_problem_is_named_and_nothing_is_stored(api: httpx.AsyncClient) -> None:
    bad: dict[str, Any] = {
        "name": "Bad Name",
        "scope": "role",
        "denied_tools": ["rm -rf"],
        "max_steps": 0,
        "features": {"teleport": False},
    }
    r = await api.post("/policies", json=bad)
    assert r.status_code == 422
    paths = {p["path"] for p in r.json()["error"]["details"]}
    assert paths == {"name", "scope_id", "denied_tools[0]", "max_steps", "features.teleport"}
    unknown = await api.post("/policies", json={"name": "x", "allow_everything": True})
    assert unknown.status_code == 422
    assert [p["path"] for p in unknown.json()["error"]["details"]] == ["allow_everything"]
    wrong_type = await api.post("/policies", json={"name": "x", "max_steps": "many"})
    assert wrong_type.status_code == 422
    assert (await api.post("/policies", json=["not", "an", "object"])).status_code == 422
    mismatch = await api.put("/policies/one", json={"name": "other"})
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["details"][0]["path"] == "name"
    assert (await api.get("/policies")).json()["items"] == []


async def test_a_member_reads_and_may_not_write(api: httpx.AsyncClient) -> None:
    made = await api.post("/api-keys", json={"name": "m", "role": "member"})
    member = {"Authorization": f"Bearer {made.json()['key']}"}
    assert (await api.post("/policies", json=CAREFUL)).status_code == 201
    assert (await api.get("/policies", headers=member)).status_code == 200
    refused = await api.put("/policies/careful-devs", json=CAREFUL, headers=member)
    assert refused.status_code == 403
    assert (await api.delete("/policies/careful-devs", headers=member)).status_code == 403

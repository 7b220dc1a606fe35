"""A workspace's own forbid rules, and deleting a workspace."""

from __future__ import annotations

import httpx

RULE = """
@id("members-may-not-cancel")
forbid (principal, action == Swarmyard::Action::"task.cancel", resource)
when { principal.role == "member" };
"""


async def test_forbid_rules_take_rights_away(api: httpx.AsyncClient) -> None:
    member = (await api.post("/api-keys", json={"name": "m", "role": "member"})).json()
    as_member = {"Authorization": f"Bearer {member['key']}"}
    task = (
        await api.post(
            "/tasks", json={"title": "t", "type": "docs", "status": "backlog"}, headers=as_member
        )
    ).json()
    refused = await api.put("/authz/rules", json={"rules": "permit (principal, action, resource);"})
    assert refused.status_code == 422
    assert "only forbid rules" in refused.text
    assert (await api.get("/authz/rules")).json() == {"rules": ""}
    assert (
        await api.put("/authz/rules", json={"rules": RULE}, headers=as_member)
    ).status_code == 403
    assert (await api.put("/authz/rules", json={"rules": RULE})).status_code == 200
    assert (await api.get("/authz/rules")).json() == {"rules": RULE}

    r = await api.delete(f"/tasks/{task['id']}", headers=as_member)
    assert r.status_code == 403
    assert "members-may-not-cancel" in r.json()["error"]["details"]["reason"]
    assert (await api.delete(f"/tasks/{task['id']}")).status_code == 200  # the owner still may
    actions = [e["action"] for e in (await api.get("/audit")).json()["items"]]
    assert "policy.write" in actions


async def test_an_owner_deletes_a_workspace_with_everything_in_it(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await api.post(
        "/workspaces/default/members",
        json={"email": "owner@example.com", "role": "member", "password": "a long password"},
    )
    tokens = (
        await anonymous.post(
            "/auth/token", json={"email": "owner@example.com", "password": "a long password"}
        )
    ).json()
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (
        await api.post("/workspaces", json={"id": "scratch", "name": "Scratch"}, headers=me)
    ).status_code == 201
    in_scratch = {**me, "X-Swarmyard-Workspace": "scratch"}
    task = (
        await api.post(
            "/tasks", json={"title": "tmp", "type": "docs", "status": "backlog"}, headers=in_scratch
        )
    ).json()
    assert (await api.delete("/workspaces/default", headers=me)).status_code == 403  # member
    assert (await api.delete("/workspaces/default")).status_code == 409  # never the default
    assert (await api.delete("/workspaces/scratch", headers=in_scratch)).status_code == 204
    listed = [w["id"] for w in (await api.get("/workspaces", headers=me)).json()["items"]]
    assert listed == ["default"]
    assert (await api.get(f"/tasks/{task['id']}", headers=in_scratch)).status_code == 404

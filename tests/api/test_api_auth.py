"""Sign-in, tokens, API keys, roles and the audit trail, through the HTTP API."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from swarmyard.runtime.wiring import Container

PASSWORD = "correct horse battery"


async def add_member(api: httpx.AsyncClient, email: str, role: str) -> dict[str, Any]:
    r = await api.post(
        "/workspaces/default/members", json={"email": email, "role": role, "password": PASSWORD}
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def sign_in(anon: httpx.AsyncClient, email: str) -> dict[str, Any]:
    r = await anon.post("/auth/token", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def secret_of(platform: Container) -> bytes:
    return (platform.settings.data_dir / "secret.key").read_bytes().strip()


async def test_no_or_bad_credentials_are_401(
    anonymous: httpx.AsyncClient, platform: Container
) -> None:
    r = await anonymous.get("/tasks")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"
    assert r.headers["www-authenticate"].startswith("Bearer")
    now = int(time.time())
    good = {
        "sub": "user_x",
        "iss": "swarmyard",
        "aud": "swarmyard-api",
        "iat": now,
        "exp": now + 60,
    }
    forged = [
        "not-a-token",
        jwt.encode(good, "another secret of at least 32 bytes!!", algorithm="HS256"),
        jwt.encode({**good, "exp": now - 10}, secret_of(platform), algorithm="HS256"),
        jwt.encode({**good, "aud": "someone-else"}, secret_of(platform), algorithm="HS256"),
        jwt.encode(good, None, algorithm="none"),  # type: ignore[arg-type]
        "sy_key_nope_secret",
    ]
    for token in forged:
        r = await anonymous.get("/tasks", headers=bearer(token))
        assert r.status_code == 401, (token, r.text)


async def test_password_sign_in_refresh_rotation_and_reuse(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await add_member(api, "ada@example.com", "member")
    wrong = await anonymous.post(
        "/auth/token", json={"email": "ada@example.com", "password": "wrong password"}
    )
    assert wrong.status_code == 401
    first = await sign_in(anonymous, "ada@example.com")
    assert (first["workspace_id"], first["role"]) == ("default", "member")
    me = await anonymous.get("/auth/me", headers=bearer(first["access_token"]))
    assert me.json()["principal"]["role"] == "member"

    second = (
        await anonymous.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert second["refresh_token"] != first["refresh_token"]
    # the first refresh token is spent: presenting it again revokes the family
    reused = await anonymous.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    after = await anonymous.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401

    third = await sign_in(anonymous, "ada@example.com")
    out = await anonymous.post("/auth/logout", json={"refresh_token": third["refresh_token"]})
    assert out.status_code == 204
    gone = await anonymous.post("/auth/refresh", json={"refresh_token": third["refresh_token"]})
    assert gone.status_code == 401

    audit = (await api.get("/audit", params={"action": "auth."})).json()["items"]
    results = sorted((e["action"], e["result"]) for e in audit)
    assert ("auth.sign_in", "failed") in results
    assert ("auth.sign_in", "ok") in results
    assert ("auth.refresh_reused", "denied") in results


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        ("viewer", [("GET", "/tasks", None)], [("POST", "/tasks", {"title": "t", "type": "docs"})]),
        (
            "member",
            [("POST", "/tasks", {"title": "t", "type": "docs"})],
            [("POST", "/agents", {"manifest": "developer"})],
        ),
        (
            "admin",
            [("POST", "/agents", {"manifest": "developer"})],
            [("POST", "/workspaces/default/members", {"email": "x@example.com", "role": "viewer"})],
        ),
    ],
)
async def test_roles_allow_and_refuse(
    api: httpx.AsyncClient,
    role: str,
    allowed: list[tuple[str, str, Any]],
    refused: list[tuple[str, str, Any]],
) -> None:
    key = (await api.post("/api-keys", json={"name": f"{role} key", "role": role})).json()
    headers = bearer(key["key"])
    for method, path, body in allowed:
        r = await api.request(method, path, json=body, headers=headers)
        assert r.status_code < 400, (role, method, path, r.text)
    for method, path, body in refused:
        r = await api.request(method, path, json=body, headers=headers)
        assert r.status_code == 403, (role, method, path, r.text)
        assert r.json()["error"]["code"] == "forbidden"


async def test_a_key_cannot_grant_more_than_its_role(api: httpx.AsyncClient) -> None:
    admin = (await api.post("/api-keys", json={"name": "admin", "role": "admin"})).json()
    r = await api.post(
        "/api-keys", json={"name": "up", "role": "owner"}, headers=bearer(admin["key"])
    )
    assert r.status_code == 422


async def test_revoked_key_is_refused_and_audited(api: httpx.AsyncClient) -> None:
    key = (await api.post("/api-keys", json={"name": "ci", "role": "member"})).json()
    assert (await api.get("/tasks", headers=bearer(key["key"]))).status_code == 200
    assert (await api.delete(f"/api-keys/{key['id']}")).status_code == 204
    assert (await api.get("/tasks", headers=bearer(key["key"]))).status_code == 401
    listed = {k["id"]: k for k in (await api.get("/api-keys")).json()["items"]}
    assert listed[key["id"]]["revoked_at"] is not None
    assert "key" not in listed[key["id"]]
    actions = [e["action"] for e in (await api.get("/audit")).json()["items"]]
    assert "apikey.create" in actions
    assert "apikey.revoke" in actions


async def test_significant_actions_are_audited_with_their_actor(api: httpx.AsyncClient) -> None:
    agent = (await api.post("/agents", json={"manifest": "developer"})).json()
    await api.patch(f"/agents/{agent['id']}", json={"replicas": 2})
    task = (
        await api.post("/tasks", json={"title": "t", "type": "docs", "status": "backlog"})
    ).json()
    await api.patch(f"/tasks/{task['id']}", json={"status": "todo"})
    await api.patch(f"/tasks/{task['id']}", json={"status": "done"})  # illegal: recorded too
    entries = (await api.get("/audit")).json()["items"]
    seen = [(e["action"], e["resource"], e["result"]) for e in entries]
    assert ("agent.install", f"agent:{agent['id']}", "ok") in seen
    assert ("agent.update", f"agent:{agent['id']}", "ok") in seen
    assert ("task.create", f"task:{task['id']}", "ok") in seen
    assert ("task.move", f"task:{task['id']}", "ok") in seen
    assert any(a == "task.move" and r.startswith("failed") for a, _, r in seen)
    by_system = [e["action"] for e in entries if e["actor"] == "system:bootstrap"]
    assert by_system == ["apikey.create"]  # the first start's owner key
    assert {e["actor"].split(":")[0] for e in entries} == {"api_key", "system"}


async def test_stopping_a_run_is_audited(api: httpx.AsyncClient) -> None:
    await api.post("/agents", json={"manifest": "developer"})
    task = (await api.post("/tasks", json={"title": "t", "type": "bugfix"})).json()
    async with api.stream("GET", f"/tasks/{task['id']}/stream") as r:
        async for line in r.aiter_lines():
            if '"run_id"' in line:
                run_id = line.split('"run_id":"', 1)[1].split('"', 1)[0]
                break
    assert (await api.post(f"/runs/{run_id}/stop")).status_code == 202
    entries = (await api.get("/audit", params={"action": "run.stop"})).json()["items"]
    assert [(e["resource"], e["result"]) for e in entries] == [(f"run:{run_id}", "ok")]
    assert entries[0]["actor"].startswith("api_key:")


async def test_me_lists_the_actions_the_ui_may_offer(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    owner = (await api.get("/auth/me")).json()
    assert {"task.create", "run.stop", "member.manage"} <= set(owner["actions"])
    await add_member(api, "viewer@example.com", "viewer")
    viewer = await sign_in(anonymous, "viewer@example.com")
    seen = (await anonymous.get("/auth/me", headers=bearer(viewer["access_token"]))).json()
    assert seen["principal"]["role"] == "viewer"
    assert "task.read" in seen["actions"]
    assert not {"task.create", "task.move", "task.cancel", "run.stop"} & set(seen["actions"])
    # A workspace's own forbid rules narrow what is offered, as they narrow what is allowed.
    rule = 'forbid (principal, action == Swarmyard::Action::"run.stop", resource);'
    assert (await api.put("/authz/rules", json={"rules": rule})).status_code == 200
    narrowed = (await api.get("/auth/me")).json()["actions"]
    assert "run.stop" not in narrowed
    assert "task.create" in narrowed

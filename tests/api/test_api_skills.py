"""/skills and /skill-installations over HTTP: the catalogue with its versions,
publishing (a new id or a higher version; built-in ids refused), installing
latest or pinned, pinning and upgrading, disabling, uninstalling; bad input
is a 4xx naming the field; changes are audited and honour idempotency keys;
viewers read, admins publish and install; the container's grant follows."""

from __future__ import annotations

from typing import Any

import httpx

from swarmyard.domain import Principal, Role, Workspace
from swarmyard.runtime.wiring import Container

DEPLOY = {
    "id": "deploy",
    "name": "Deploy",
    "version": "1.0.0",
    "description": "Ship to the cluster.",
    "instructions": "Roll out one service at a time.",
    "tools": ["mcp.k8s.*"],
    "roles": ["devops"],
}


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code
    return body


async def test_publish_and_browse_the_catalogue(api: httpx.AsyncClient) -> None:
    listed = (await api.get("/skills")).json()["items"]
    assert [s["id"] for s in listed] == [
        "git-workflow",
        "repo-navigation",
        "sandboxed-testing",
        "web-research",
    ]
    assert listed[0]["builtin"] is True
    assert listed[0]["versions"] == ["1.0.0"]
    assert listed[0]["installed"] is False

    made = await api.post("/skills", json=DEPLOY)
    assert made.status_code == 201, made.text
    assert made.json() == DEPLOY | {"builtin": False}
    assert (await api.post("/skills", json=DEPLOY | {"version": "1.10.0"})).status_code == 201
    assert (await api.post("/skills", json=DEPLOY | {"version": "1.9.0"})).status_code == 409

    listed = (await api.get("/skills")).json()["items"]
    deploy = listed[-1]
    assert (deploy["id"], deploy["version"], deploy["versions"]) == (
        "deploy",
        "1.10.0",
        ["1.0.0", "1.10.0"],
    )
    shown = (await api.get("/skills/deploy")).json()
    assert (shown["latest"], shown["builtin"]) == ("1.10.0", False)
    assert [v["version"] for v in shown["versions"]] == ["1.0.0", "1.10.0"]
    one = (await api.get("/skills/deploy", params={"version": "1.0.0"})).json()
    assert one["version"] == "1.0.0"
    assert (await api.get("/skills/git-workflow")).json()["builtin"] is True
    error_of(await api.get("/skills/nope"), 404, "not_found")
    error_of(await api.get("/skills/deploy", params={"version": "2.0.0"}), 404, "not_found")

    actions = [(e["action"], e["resource"]) for e in (await api.get("/audit")).json()["items"]]
    assert ("skill.publish", "skill:deploy") in actions


async def test_bad_packs_are_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    err = error_of(
        await api.post("/skills", json=DEPLOY | {"tools": ["*"], "version": "1", "x": 1}),
        422,
        "validation_failed",
    )
    assert [p["path"] for p in err["details"]] == ["tools", "version", "x"]
    err = error_of(
        await api.post("/skills", json=DEPLOY | {"id": "git-workflow", "version": "9.0.0"}),
        422,
        "validation_failed",
    )
    assert [p["path"] for p in err["details"]] == ["id"]
    assert "built-in" in err["message"]
    err = error_of(await api.post("/skills", json=["a list"]), 422, "validation_failed")
    assert "JSON object" in err["message"]
    error_of(
        await api.post("/skills", content=b"{no", headers={"content-type": "application/json"}),
        422,
        "validation_failed",
    )
    assert (await api.post("/skills", json=DEPLOY)).status_code == 201
    err = error_of(await api.post("/skills", json=DEPLOY), 409, "conflict")
    assert err["details"] == {"id": "deploy", "version": "1.0.0", "latest": "1.0.0"}


async def test_install_pin_upgrade_disable_uninstall(
    platform: Container, api: httpx.AsyncClient
) -> None:
    await api.post("/skills", json=DEPLOY)
    r = await api.post("/skill-installations", json={"pack": "deploy"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["id"], made["version"], made["resolved_version"]) == ("deploy", None, "1.0.0")
    assert (made["roles"], made["applies_to"], made["enabled"]) == (None, ["devops"], True)
    assert made["installed_by"].startswith("api_key:")
    error_of(await api.post("/skill-installations", json={"pack": "deploy"}), 409, "conflict")

    # Following the latest: publishing 1.1.0 upgrades it at once.
    await api.post("/skills", json=DEPLOY | {"version": "1.1.0", "tools": ["mcp.k8s.*", "fs.read"]})
    [listed] = (await api.get("/skill-installations")).json()["items"]
    assert listed["resolved_version"] == "1.1.0"
    grant = await platform.skills.grant("default", "devops")
    assert grant.packs == ("deploy@1.1.0",)
    assert grant.tools == ("mcp.k8s.*", "fs.read")

    pinned = await api.patch("/skill-installations/deploy", json={"version": "1.0.0"})
    assert pinned.status_code == 200, pinned.text
    assert (pinned.json()["version"], pinned.json()["resolved_version"]) == ("1.0.0", "1.0.0")
    assert (await platform.skills.grant("default", "devops")).packs == ("deploy@1.0.0",)
    error_of(
        await api.patch("/skill-installations/deploy", json={"version": "7.0.0"}), 404, "not_found"
    )

    wider = (await api.patch("/skill-installations/deploy", json={"roles": ["tester"]})).json()
    assert (wider["roles"], wider["applies_to"], wider["version"]) == (
        ["tester"],
        ["tester"],
        "1.0.0",
    )
    assert (await platform.skills.grant("default", "devops")).packs == ()
    assert (await platform.skills.grant("default", "tester")).packs == ("deploy@1.0.0",)

    off = await api.patch("/skill-installations/deploy", json={"enabled": False})
    assert off.json()["enabled"] is False
    assert (await platform.skills.grant("default", "tester")).packs == ()
    back = await api.patch(
        "/skill-installations/deploy", json={"enabled": True, "version": None, "roles": None}
    )
    assert (back.json()["version"], back.json()["resolved_version"]) == (None, "1.1.0")
    assert back.json()["applies_to"] == ["devops"]
    listed = (await api.get("/skills")).json()["items"]
    assert next(s for s in listed if s["id"] == "deploy")["installed"] is True

    assert (await api.delete("/skill-installations/deploy")).status_code == 204
    assert (await api.get("/skill-installations")).json()["items"] == []
    error_of(await api.delete("/skill-installations/deploy"), 404, "not_found")
    error_of(
        await api.patch("/skill-installations/deploy", json={"enabled": True}), 404, "not_found"
    )

    actions = [(e["action"], e["resource"]) for e in (await api.get("/audit")).json()["items"]]
    for action in ("skill.install", "skill.update", "skill.uninstall"):
        assert (action, "skill:deploy") in actions
    assert ("skill.update", "skill:deploy") in actions


async def test_built_in_packs_install_pinned(api: httpx.AsyncClient) -> None:
    body = {"pack": "git-workflow", "version": "1.0.0", "roles": ["developer"]}
    made = (await api.post("/skill-installations", json=body)).json()
    assert (made["version"], made["applies_to"], made["name"]) == (
        "1.0.0",
        ["developer"],
        "Git workflow",
    )
    assert made["tools"] == ["git.status", "git.diff", "git.commit"]
    err = error_of(
        await api.post("/skill-installations", json={"pack": "web-research", "version": "2.0.0"}),
        404,
        "not_found",
    )
    assert "web-research@2.0.0" in err["message"]


async def test_bad_installations_name_the_field(api: httpx.AsyncClient) -> None:
    cases = [
        ({"pack": "git-workflow", "version": "latest"}, "version"),
        ({"pack": "git-workflow", "roles": ["Dev Ops"]}, "roles"),
        ({"pack": "git-workflow", "roles": ["tester", "tester"]}, "roles"),
        ({"pack": "git-workflow", "workspace_id": "other"}, "workspace_id"),
        ({}, "pack"),
    ]
    for body, path in cases:
        err = error_of(await api.post("/skill-installations", json=body), 422, "validation_failed")
        assert [p["path"] for p in err["details"]] == [path], body
    await api.post("/skill-installations", json={"pack": "git-workflow"})
    err = error_of(
        await api.patch("/skill-installations/git-workflow", json={}), 422, "validation_failed"
    )
    assert "give version, roles and/or enabled" in err["message"]
    err = error_of(
        await api.patch("/skill-installations/git-workflow", json={"enabled": None}),
        422,
        "validation_failed",
    )
    assert [p["path"] for p in err["details"]] == ["enabled"]
    error_of(await api.post("/skill-installations", json={"pack": "nope"}), 404, "not_found")


async def test_idempotency_keys_act_once(api: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "publish-deploy-1"}
    first = await api.post("/skills", json=DEPLOY, headers=headers)
    again = await api.post("/skills", json=DEPLOY, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    other = await api.post("/skills", json=DEPLOY | {"version": "2.0.0"}, headers=headers)
    error_of(other, 422, "idempotency_key_reused")
    install = {"Idempotency-Key": "install-deploy-1"}
    first = await api.post("/skill-installations", json={"pack": "deploy"}, headers=install)
    again = await api.post("/skill-installations", json={"pack": "deploy"}, headers=install)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    gone = {"Idempotency-Key": "uninstall-deploy-1"}
    assert (await api.delete("/skill-installations/deploy", headers=gone)).status_code == 204
    assert (await api.delete("/skill-installations/deploy", headers=gone)).status_code == 204


async def test_viewers_read_admins_publish_and_install(api: httpx.AsyncClient) -> None:
    await api.post("/skill-installations", json={"pack": "repo-navigation"})
    keys = {}
    for role in ("viewer", "member", "admin"):
        made = await api.post("/api-keys", json={"name": role, "role": role})
        keys[role] = {"Authorization": f"Bearer {made.json()['key']}"}
    assert (await api.get("/skills", headers=keys["viewer"])).status_code == 200
    assert (await api.get("/skill-installations", headers=keys["viewer"])).status_code == 200
    refused = await api.post("/skills", json=DEPLOY, headers=keys["member"])
    assert error_of(refused, 403, "forbidden")["details"]["action"] == "skill.publish"
    refused = await api.patch(
        "/skill-installations/repo-navigation", json={"enabled": False}, headers=keys["member"]
    )
    assert error_of(refused, 403, "forbidden")["details"]["action"] == "skill.install"
    assert (await api.post("/skills", json=DEPLOY, headers=keys["admin"])).status_code == 201
    installed = await api.post(
        "/skill-installations", json={"pack": "deploy"}, headers=keys["admin"]
    )
    assert installed.status_code == 201


async def test_another_workspace_sees_none_of_it(
    api: httpx.AsyncClient, platform: Container
) -> None:
    await api.post("/skills", json=DEPLOY)
    await api.post("/skill-installations", json={"pack": "deploy"})
    await platform.store.add_workspace(Workspace("b", "B", platform.deps.clock.now()))
    _, b_key = await platform.identity.create_key(
        Principal("system", "test", "b", Role.OWNER), name="B owner", role="owner"
    )
    b = {"Authorization": f"Bearer {b_key}"}
    assert (await api.get("/skill-installations", headers=b)).json()["items"] == []
    assert "deploy" not in [s["id"] for s in (await api.get("/skills", headers=b)).json()["items"]]
    error_of(await api.get("/skills/deploy", headers=b), 404, "not_found")
    error_of(await api.delete("/skill-installations/deploy", headers=b), 404, "not_found")
    # B may publish a pack of the same id: its own.
    assert (
        await api.post("/skills", json=DEPLOY | {"version": "0.1.0"}, headers=b)
    ).status_code == 201
    assert (await platform.skills.grant("b", "devops")).packs == ()
    assert (await platform.skills.grant("default", "devops")).packs == ("deploy@1.0.0",)

"""/mcp-servers over HTTP, on scripted MCP servers (the in-memory connector):
registered, listed with health, discovered, probed, changed and removed;
secrets go in and never come out; bad input is a 422 naming the field (an
HTTP URL inside the host's networks too, unless the operator allows it);
changes are audited and honour idempotency keys; members read, admins write."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from swarmyard.adapters.mcp import FakeMcpConnector, FakeMcpServer
from swarmyard.api.app import create_app
from swarmyard.config import Settings
from swarmyard.ports import McpToolInfo
from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings

SECRET = "ghp_0123456789abcdefSECRETSECRET"
TIME = {"name": "time", "command": "time-server", "args": ["--local-timezone", "UTC"]}
REMOTE = {
    "name": "remote",
    "url": "https://tools.example.com/mcp",
    "headers": {"X-Team": "blue"},
    "secret_headers": {"Authorization": f"Bearer {SECRET}"},
}


@pytest.fixture
def servers() -> dict[str, FakeMcpServer]:
    schema = {"type": "object", "properties": {"timezone": {"type": "string"}}}
    return {
        "time-server": FakeMcpServer(
            tools=[McpToolInfo("get_current_time", "Current time in a time zone.", schema)]
        ),
        "https://tools.example.com/mcp": FakeMcpServer(
            tools=[McpToolInfo("echo", "Echoes.", {"type": "object"})]
        ),
    }


@asynccontextmanager
async def running(settings: Settings, connector: FakeMcpConnector) -> AsyncIterator[Container]:
    container = build(settings, mcp=connector)
    await container.start()
    try:
        yield container
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)


@asynccontextmanager
async def admin_api(
    settings: Settings, connector: FakeMcpConnector
) -> AsyncIterator[httpx.AsyncClient]:
    """The owner's client on a platform of its own (settings other than `platform`'s)."""
    async with running(settings, connector) as container:
        transport = httpx.ASGITransport(app=create_app(container, manage_lifecycle=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as api:
            creds = json.loads((container.settings.data_dir / "credentials.json").read_text())
            api.headers["Authorization"] = f"Bearer {creds['api_key']}"
            yield api


@pytest.fixture
async def platform(tmp_path: Path, servers: dict[str, FakeMcpServer]) -> AsyncIterator[Container]:
    settings = embedded_settings(tmp_path, mcp_stdio=True)
    async with running(settings, FakeMcpConnector(servers)) as container:
        yield container


def error_of(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()["error"]
    assert body["code"] == code
    return body


async def test_servers_are_registered_listed_discovered_and_removed(
    api: httpx.AsyncClient, servers: dict[str, FakeMcpServer]
) -> None:
    r = await api.post("/mcp-servers", json=TIME | {"env": {"TZ": "UTC"}})
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["name"], made["transport"], made["command"], made["env"]) == (
        "time",
        "stdio",
        "time-server",
        {"TZ": "UTC"},
    )
    assert made["health"]["status"] == "unknown"  # nothing started yet
    assert (await api.post("/mcp-servers", json=REMOTE)).status_code == 201

    listed = (await api.get("/mcp-servers")).json()["items"]
    assert [s["name"] for s in listed] == ["remote", "time"]
    assert (await api.get("/mcp-servers/time")).json() == made

    found = (await api.get("/mcp-servers/time/tools")).json()
    [clock] = found["items"]
    assert clock["name"] == "mcp.time.get_current_time"
    assert clock["mcp_name"] == "get_current_time"
    assert clock["input_schema"]["properties"] == {"timezone": {"type": "string"}}
    assert found["health"]["status"] == "healthy"
    assert found["health"]["tools"] == 1
    assert (await api.get("/mcp-servers/time")).json()["health"]["status"] == "healthy"

    assert (await api.delete("/mcp-servers/time")).status_code == 204
    assert servers["time-server"].sessions[0].closed  # its process is stopped
    error_of(await api.get("/mcp-servers/time"), 404, "not_found")
    error_of(await api.delete("/mcp-servers/time"), 404, "not_found")
    error_of(await api.get("/mcp-servers/time/tools"), 404, "not_found")
    error_of(await api.post("/mcp-servers/time/probe"), 404, "not_found")

    actions = [(e["action"], e["resource"]) for e in (await api.get("/audit")).json()["items"]]
    assert ("mcp.register", "mcp:time") in actions
    assert ("mcp.remove", "mcp:time") in actions


async def test_secrets_go_in_and_never_come_out(
    api: httpx.AsyncClient, servers: dict[str, FakeMcpServer]
) -> None:
    made = await api.post("/mcp-servers", json=REMOTE)
    assert made.json()["secret_headers"] == ["Authorization"]
    assert made.json()["headers"] == {"X-Team": "blue"}
    await api.get("/mcp-servers/remote/tools")
    sent = servers["https://tools.example.com/mcp"].endpoints[0].headers
    assert sent["Authorization"] == f"Bearer {SECRET}"  # the server does get it
    for r in (
        made,
        await api.get("/mcp-servers"),
        await api.get("/mcp-servers/remote"),
        await api.post("/mcp-servers/remote/probe"),
        await api.get("/audit"),
    ):
        assert SECRET not in r.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Not OK!", "command": "x"}, "name"),
        ({"name": "x"}, "command"),
        ({"name": "x", "transport": "http"}, "url"),
        ({"name": "x", "url": "file:///etc/passwd"}, "url"),
        ({"name": "x", "url": "javascript:alert(1)"}, "url"),
        ({"name": "x", "command": "c", "url": "https://a.example/mcp"}, "transport"),
        ({"name": "x", "url": "https://a.example/mcp", "args": ["--x"]}, "args"),
        ({"name": "x", "command": "c", "secret_env": {"bad-name": "v"}}, "secret_env"),
        ({"name": "x", "command": "c", "timeout_seconds": "soon"}, "timeout_seconds"),
        ({"name": "x", "command": "c", "unknown": 1}, "unknown"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    api: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    err = error_of(await api.post("/mcp-servers", json=body), 422, "validation_failed")
    assert field in {p["path"] for p in err["details"]}, err
    assert (await api.get("/mcp-servers")).json()["items"] == []


async def test_odd_bodies_and_duplicates(api: httpx.AsyncClient) -> None:
    error_of(await api.post("/mcp-servers", json=["time"]), 422, "validation_failed")
    error_of(
        await api.post(
            "/mcp-servers", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
        "validation_failed",
    )
    assert (await api.post("/mcp-servers", json=TIME)).status_code == 201
    err = error_of(await api.post("/mcp-servers", json=REMOTE | {"name": "time"}), 409, "conflict")
    assert "time" in err["message"]


async def test_stdio_servers_need_the_operator(tmp_path: Path) -> None:
    async with admin_api(embedded_settings(tmp_path / "closed"), FakeMcpConnector()) as api:
        err = error_of(await api.post("/mcp-servers", json=TIME), 422, "validation_failed")
        assert [p["path"] for p in err["details"]] == ["transport"]
        assert "SWARMYARD_MCP_STDIO=true" in err["message"]
        assert (await api.post("/mcp-servers", json=REMOTE)).status_code == 201


async def test_idempotency_keys_act_once(api: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "register-time-1"}
    first = await api.post("/mcp-servers", json=TIME, headers=headers)
    again = await api.post("/mcp-servers", json=TIME, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    other = await api.post("/mcp-servers", json=REMOTE, headers=headers)
    error_of(other, 422, "idempotency_key_reused")
    gone = {"Idempotency-Key": "remove-time-1"}
    assert (await api.delete("/mcp-servers/time", headers=gone)).status_code == 204
    assert (await api.delete("/mcp-servers/time", headers=gone)).status_code == 204


async def test_unreachable_servers_are_unhealthy_and_discovery_is_502(
    api: httpx.AsyncClient, servers: dict[str, FakeMcpServer]
) -> None:
    servers["https://tools.example.com/mcp"].down = "ConnectError: All connection attempts failed"
    await api.post("/mcp-servers", json=REMOTE)
    err = error_of(await api.get("/mcp-servers/remote/tools"), 502, "mcp_unavailable")
    assert "All connection attempts failed" in err["message"]
    probed = (await api.post("/mcp-servers/remote/probe")).json()
    assert probed["health"]["status"] == "unhealthy"
    assert "All connection attempts failed" in probed["health"]["error"]
    assert probed["health"]["retry_at"] is not None


async def test_members_read_and_probe_admins_write(api: httpx.AsyncClient) -> None:
    await api.post("/mcp-servers", json=TIME)
    keys = {}
    for role in ("viewer", "member", "admin"):
        made = await api.post("/api-keys", json={"name": role, "role": role})
        keys[role] = {"Authorization": f"Bearer {made.json()['key']}"}
    assert (await api.get("/mcp-servers", headers=keys["viewer"])).status_code == 403
    assert (await api.get("/mcp-servers", headers=keys["member"])).status_code == 200
    assert (await api.post("/mcp-servers/time/probe", headers=keys["member"])).status_code == 200
    refused = await api.post("/mcp-servers", json=REMOTE, headers=keys["member"])
    assert error_of(refused, 403, "forbidden")["details"]["action"] == "mcp.write"
    assert (await api.delete("/mcp-servers/time", headers=keys["member"])).status_code == 403
    assert (await api.delete("/mcp-servers/time", headers=keys["admin"])).status_code == 204


async def test_the_container_hands_out_the_tools_and_closes_them(
    platform: Container, api: httpx.AsyncClient, servers: dict[str, FakeMcpServer]
) -> None:
    await api.post("/mcp-servers", json=TIME)
    tools = await platform.mcp.tools_for("default")
    assert [t.spec.name for t in tools] == ["mcp.time.get_current_time"]
    await platform.mcp.aclose()
    assert all(s.closed for s in servers["time-server"].sessions)


# ------------------------------------------------------------------ egress


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "refused (metadata)"),
        ("http://metadata.google.internal/", "refused (metadata)"),
        ("http://127.0.0.1:5432/", "refused (loopback)"),
        ("http://[::ffff:127.0.0.1]/mcp", "refused (loopback)"),
        ("http://0x7f000001/mcp", "refused (loopback)"),
        ("http://localhost:8080/mcp", "refused (loopback)"),
        ("http://10.0.0.8/mcp", "refused (private)"),
        ("http://100.64.0.1/mcp", "refused (cgnat)"),
        ("file:///etc/passwd", "http:// or https://"),
        ("gopher://127.0.0.1:6379/_INFO", "http:// or https://"),
    ],
)
async def test_urls_inside_the_hosts_networks_are_refused_when_registering(
    api: httpx.AsyncClient, servers: dict[str, FakeMcpServer], url: str, reason: str
) -> None:
    r = await api.post("/mcp-servers", json={"name": "sneaky", "url": url})
    err = error_of(r, 422, "validation_failed")
    [problem] = err["details"]
    assert problem["path"] == "url"
    assert reason in problem["reason"], problem
    liftable = reason.startswith("refused") and "metadata" not in reason
    assert ("SWARMYARD_EGRESS_ALLOW" in problem["reason"]) is liftable
    assert (await api.get("/mcp-servers")).json()["items"] == []
    assert all(s.starts == 0 for s in servers.values())


async def test_the_operators_allow_list_admits_loopback_but_never_metadata(
    tmp_path: Path,
) -> None:
    local = FakeMcpServer(tools=[McpToolInfo("echo", "Echoes.", {"type": "object"})])
    settings = embedded_settings(tmp_path, egress_allow=["127.0.0.1", "169.254.0.0/16"])
    async with admin_api(settings, FakeMcpConnector({"http://127.0.0.1:8123/mcp": local})) as api:
        body = {"name": "local", "url": "http://127.0.0.1:8123/mcp"}
        assert (await api.post("/mcp-servers", json=body)).status_code == 201
        assert (await api.post("/mcp-servers/local/probe")).json()["health"]["tools"] == 1
        cloud = {"name": "cloud", "url": "http://169.254.169.254/"}
        err = error_of(await api.post("/mcp-servers", json=cloud), 422, "validation_failed")
        assert "refused (metadata)" in err["message"]
        assert "SWARMYARD_EGRESS_ALLOW" not in err["message"]  # no allow list lifts it


# ------------------------------------------------------------------ changes


async def test_a_change_replaces_the_settings_given_and_reconnects(
    api: httpx.AsyncClient, servers: dict[str, FakeMcpServer]
) -> None:
    made = (await api.post("/mcp-servers", json=TIME | {"env": {"TZ": "UTC"}})).json()
    await api.get("/mcp-servers/time/tools")
    [first] = servers["time-server"].sessions
    r = await api.patch(
        "/mcp-servers/time", json={"args": ["--local-timezone", "Europe/Paris"], "env": None}
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["args"], changed["env"], changed["command"]) == (
        ["--local-timezone", "Europe/Paris"],
        {},
        "time-server",
    )
    assert (changed["created_at"], changed["created_by"]) == (
        made["created_at"],
        made["created_by"],
    )
    assert changed["updated_at"] > made["updated_at"]
    assert first.closed  # the old process is stopped
    assert changed["health"]["status"] == "unknown"
    assert (await api.get("/mcp-servers/time")).json() == changed
    await api.get("/mcp-servers/time/tools")
    assert servers["time-server"].endpoints[-1].args == ("--local-timezone", "Europe/Paris")
    assert servers["time-server"].endpoints[-1].env == {}
    assert servers["time-server"].starts == 2

    off = (await api.patch("/mcp-servers/time", json={"enabled": False})).json()
    assert off["enabled"] is False
    assert off["args"] == ["--local-timezone", "Europe/Paris"]  # what was not given stays
    actions = [(e["action"], e["resource"]) for e in (await api.get("/audit")).json()["items"]]
    assert actions.count(("mcp.update", "mcp:time")) == 2


async def test_secrets_stay_unless_replaced_and_never_come_out(
    api: httpx.AsyncClient, servers: dict[str, FakeMcpServer]
) -> None:
    await api.post("/mcp-servers", json=REMOTE)
    r = await api.patch("/mcp-servers/remote", json={"headers": {"X-Team": "red"}})
    assert (r.json()["headers"], r.json()["secret_headers"]) == (
        {"X-Team": "red"},
        ["Authorization"],
    )
    await api.post("/mcp-servers/remote/probe")
    remote = servers["https://tools.example.com/mcp"]
    assert dict(remote.endpoints[-1].headers) == {
        "X-Team": "red",
        "Authorization": f"Bearer {SECRET}",
    }
    rotated = "ghp_rotated-0123456789abcdef"
    r = await api.patch("/mcp-servers/remote", json={"secret_headers": {"X-Key": rotated}})
    assert r.json()["secret_headers"] == ["X-Key"]
    await api.post("/mcp-servers/remote/probe")
    assert dict(remote.endpoints[-1].headers) == {"X-Team": "red", "X-Key": rotated}
    for text in (r.text, (await api.get("/mcp-servers")).text, (await api.get("/audit")).text):
        assert SECRET not in text
        assert rotated not in text


async def test_a_url_moves_a_stdio_server_to_http(
    api: httpx.AsyncClient, servers: dict[str, FakeMcpServer]
) -> None:
    await api.post("/mcp-servers", json=TIME | {"secret_env": {"TOKEN": SECRET}})
    r = await api.patch("/mcp-servers/time", json={"url": "https://tools.example.com/mcp"})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert (moved["transport"], moved["url"], moved["secret_headers"]) == (
        "http",
        "https://tools.example.com/mcp",
        [],
    )
    assert "command" not in moved
    found = (await api.get("/mcp-servers/time/tools")).json()["items"]
    assert [t["name"] for t in found] == ["mcp.time.echo"]
    assert servers["time-server"].starts == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "other"}, "name"),
        ({"colour": "red"}, "colour"),
        ({}, ""),
        ({"timeout_seconds": "soon"}, "timeout_seconds"),
        ({"env": {"1BAD": "x"}}, "env"),
        ({"url": "https://a.example/mcp", "command": "c"}, "url"),
        ({"command": None}, "command"),
        ({"transport": "carrier-pigeon"}, "transport"),
        ({"transport": ["http"], "args": {"a": 1}}, "transport"),
        ({"url": "http://169.254.169.254/"}, "url"),
        ({"url": "http://[::ffff:127.0.0.1]/mcp"}, "url"),
    ],
)
async def test_a_bad_change_is_422_and_changes_nothing(
    api: httpx.AsyncClient, servers: dict[str, FakeMcpServer], body: dict[str, Any], field: str
) -> None:
    await api.post("/mcp-servers", json=TIME)
    await api.get("/mcp-servers/time/tools")
    before = (await api.get("/mcp-servers/time")).json()
    err = error_of(await api.patch("/mcp-servers/time", json=body), 422, "validation_failed")
    assert field in {p["path"] for p in err["details"]}, err
    assert (await api.get("/mcp-servers/time")).json() == before
    assert not servers["time-server"].sessions[0].closed  # still connected
    actions = [(e["action"], e["result"]) for e in (await api.get("/audit")).json()["items"]]
    assert ("mcp.update", "failed: validation_failed") in actions


async def test_changes_to_unknown_servers_odd_bodies_and_roles(api: httpx.AsyncClient) -> None:
    error_of(await api.patch("/mcp-servers/nope", json={"enabled": False}), 404, "not_found")
    await api.post("/mcp-servers", json=TIME)
    error_of(await api.patch("/mcp-servers/time", json=["x"]), 422, "validation_failed")
    made = await api.post("/api-keys", json={"name": "member", "role": "member"})
    member = {"Authorization": f"Bearer {made.json()['key']}"}
    refused = await api.patch("/mcp-servers/time", json={"enabled": False}, headers=member)
    assert error_of(refused, 403, "forbidden")["details"]["action"] == "mcp.write"
    assert (await api.get("/mcp-servers/time")).json()["enabled"] is True


async def test_stdio_changes_need_the_operator_too(tmp_path: Path) -> None:
    async with admin_api(embedded_settings(tmp_path / "closed"), FakeMcpConnector()) as api:
        assert (await api.post("/mcp-servers", json=REMOTE)).status_code == 201
        r = await api.patch("/mcp-servers/remote", json={"command": "time-server"})
        err = error_of(r, 422, "validation_failed")
        assert "SWARMYARD_MCP_STDIO=true" in err["message"]
        assert (await api.get("/mcp-servers/remote")).json()["transport"] == "http"


async def test_changes_honour_idempotency_keys(api: httpx.AsyncClient) -> None:
    await api.post("/mcp-servers", json=TIME)
    headers = {"Idempotency-Key": "change-time-1"}
    first = await api.patch("/mcp-servers/time", json={"enabled": False}, headers=headers)
    again = await api.patch("/mcp-servers/time", json={"enabled": False}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    other = await api.patch("/mcp-servers/time", json={"enabled": True}, headers=headers)
    error_of(other, 422, "idempotency_key_reused")
    assert (await api.get("/mcp-servers/time")).json()["enabled"] is False

"""/mcp-servers over HTTP, on scripted MCP servers (the in-memory connector):
registered, listed with health, discovered, probed and removed; secrets go
in and never come out; bad input is a 422 naming the field; changes are
audited and honour idempotency keys; members read, admins write."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from swarmyard.adapters.mcp import FakeMcpConnector, FakeMcpServer
from swarmyard.api.app import create_app
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


@pytest.fixture
async def platform(tmp_path: Path, servers: dict[str, FakeMcpServer]) -> AsyncIterator[Container]:
    settings = embedded_settings(tmp_path, mcp_stdio=True)
    container = build(settings, mcp=FakeMcpConnector(servers))
    await container.start()
    try:
        yield container
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)


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
    container = build(embedded_settings(tmp_path / "closed"), mcp=FakeMcpConnector())
    await container.start()
    try:
        anonymous = httpx.ASGITransport(app=create_app(container, manage_lifecycle=False))
        async with httpx.AsyncClient(transport=anonymous, base_url="http://t/api/v1") as api:
            creds = json.loads((container.settings.data_dir / "credentials.json").read_text())
            api.headers["Authorization"] = f"Bearer {creds['api_key']}"
            err = error_of(await api.post("/mcp-servers", json=TIME), 422, "validation_failed")
            assert [p["path"] for p in err["details"]] == ["transport"]
            assert "SWARMYARD_MCP_STDIO=true" in err["message"]
            assert (await api.post("/mcp-servers", json=REMOTE)).status_code == 201
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)


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

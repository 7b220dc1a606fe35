"""The gateway and the SDK connector against real published MCP servers:
mcp-server-time and mcp-server-git over stdio, server-everything over stdio
and streamable HTTP. Their tools are discovered and called, a killed stdio
server is restarted on the next use, and an HTTP server nobody listens on
is reported unhealthy with the error. One set of sessions serves the whole
module (starting the servers is most of the time)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.mcp import SdkMcpConnector
from swarmyard.adapters.net import EgressGuard, EgressRules
from swarmyard.adapters.security import FernetSecretBox
from swarmyard.adapters.store import MemoryStore
from swarmyard.api.app import create_app
from swarmyard.domain import DEFAULT_WORKSPACE, FakeClock, SequentialIds, Workspace
from swarmyard.domain.mcp import McpStatus
from swarmyard.ports import Tool, ToolContext, ToolError
from swarmyard.runtime.wiring import build
from swarmyard.services.deps import Deps
from swarmyard.services.mcp_gateway import McpGateway, McpServerUnavailable
from swarmyard.services.mcp_servers import McpServerService
from swarmyard.testing import embedded_settings
from swarmyard.testing.mcp_servers import (
    EverythingServer,
    children,
    free_port,
    http_everything,
    kill_children,
)

pytestmark = [pytest.mark.mcp, pytest.mark.asyncio(loop_scope="module")]

WS = DEFAULT_WORKSPACE
CTX = ToolContext(workspace_id=WS, run_id="r1", task_id="t1", role="developer")
SECRET = "ev-secret-0123456789"


@dataclass
class World:
    gateway: McpGateway
    tools: dict[str, Tool]
    everything: EverythingServer
    repo: Path

    async def call(self, name: str, **args: Any) -> str:
        return await self.tools[name].call(args, CTX)


def git_repo(path: Path) -> Path:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True)

    path.mkdir()
    git("init", "-q", "-b", "main")
    git("config", "user.email", "tests@example.com")
    git("config", "user.name", "Tests")
    (path / "README.md").write_text("hello\n")
    git("add", "README.md")
    git("commit", "-q", "-m", "first")
    (path / "notes.txt").write_text("not yet added\n")
    return path


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(
    python_mcp_servers: None, everything: EverythingServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    await store.add_workspace(Workspace(WS, "Default", clock.now()))
    deps = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
    box = FernetSecretBox(b"test secret")
    # The HTTP servers are on loopback, which an operator allows explicitly.
    egress = EgressGuard(EgressRules.parse(["127.0.0.1"]))
    gateway = McpGateway(deps, SdkMcpConnector(egress=egress), box, stdio_allowed=True)
    servers = McpServerService(
        deps, box, stdio_allowed=True, egress=egress, on_change=gateway.forget
    )
    repo = git_repo(tmp_path_factory.mktemp("git") / "repo")
    node, script = everything.node, str(everything.script)
    async with http_everything(everything) as url:
        for body in (
            {"name": "time", "command": sys.executable, "args": ["-m", "mcp_server_time"]},
            {
                "name": "git",
                "command": sys.executable,
                "args": ["-m", "mcp_server_git", "--repository", str(repo)],
            },
            {
                "name": "ev",
                "command": node,
                "args": [script, "stdio"],
                "env": {"EV_PLAIN": "plain-value"},
                "secret_env": {"EV_SECRET": SECRET},
            },
            {"name": "evh", "url": url, "headers": {"X-Team": "blue"}},
            {"name": "down", "url": f"http://127.0.0.1:{free_port()}/mcp", "timeout_seconds": 5},
        ):
            await servers.register(WS, body, by="tests")
        tools = {t.spec.name: t for t in await gateway.tools_for(WS)}
        try:
            yield World(gateway, tools, everything, repo)
        finally:
            await gateway.aclose()


async def test_every_reachable_server_lists_its_tools(world: World) -> None:
    names = set(world.tools)
    assert {"mcp.time.get_current_time", "mcp.time.convert_time"} <= names
    assert {"mcp.git.git_status", "mcp.git.git_log", "mcp.git.git_diff"} <= names
    for server in ("ev", "evh"):
        assert {f"mcp.{server}.echo", f"mcp.{server}.get-sum"} <= names
    assert not [n for n in names if n.startswith("mcp.down.")]
    for server in ("time", "git", "ev", "evh"):
        health = world.gateway.health(WS, server)
        assert (health.status, health.error) == (McpStatus.HEALTHY, None), server
    clock = world.tools["mcp.time.get_current_time"].spec
    assert "timezone" in clock.parameters["properties"]
    assert clock.description


async def test_time_tells_the_time_and_refuses_a_bad_zone(world: World) -> None:
    answer = json.loads(await world.call("mcp.time.get_current_time", timezone="UTC"))
    assert answer["timezone"] == "UTC"
    assert datetime.fromisoformat(answer["datetime"]).utcoffset() is not None
    with pytest.raises(ToolError, match="Mars/Olympus"):
        await world.call("mcp.time.get_current_time", timezone="Mars/Olympus")


async def test_git_status_of_a_repository(world: World) -> None:
    status = await world.call("mcp.git.git_status", repo_path=str(world.repo))
    assert "On branch main" in status
    assert "notes.txt" in status  # untracked
    log = await world.call("mcp.git.git_log", repo_path=str(world.repo))
    assert "first" in log


@pytest.mark.parametrize("server", ["ev", "evh"])
async def test_everything_echoes_and_adds(world: World, server: str) -> None:
    assert await world.call(f"mcp.{server}.echo", message="hello") == "Echo: hello"
    assert await world.call(f"mcp.{server}.get-sum", a=2, b=3) == "The sum of 2 and 3 is 5."
    weather = json.loads(
        await world.call(f"mcp.{server}.get-structured-content", location="Chicago")
    )
    assert {"temperature", "conditions", "humidity"} <= set(weather)
    with pytest.raises(ToolError, match="expected number"):
        await world.call(f"mcp.{server}.get-sum", a="two", b=3)


async def test_a_stdio_server_gets_its_environment_and_no_more(world: World) -> None:
    env = json.loads(await world.call("mcp.ev.get-env"))
    assert (env["EV_PLAIN"], env["EV_SECRET"]) == ("plain-value", SECRET)
    assert "PATH" in env
    assert not [k for k in env if k.startswith("SWARMYARD_")]  # the platform's own stay home


async def test_an_unreachable_http_server_is_unhealthy_with_the_error(world: World) -> None:
    health = world.gateway.health(WS, "down")
    assert health.status is McpStatus.UNHEALTHY
    assert "ConnectError" in (health.error or ""), health.error
    assert health.retry_at is not None
    with pytest.raises(McpServerUnavailable, match="ConnectError"):
        await world.gateway.discover(WS, "down")


async def test_a_killed_stdio_server_is_restarted_on_next_use(world: World) -> None:
    marker = f"{world.everything.script} stdio"
    [pid] = kill_children(marker)
    for _ in range(100):  # until this process has seen it die
        if _gone(pid):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert await world.call("mcp.ev.echo", message="again") == "Echo: again"
    assert world.gateway.health(WS, "ev").restarts == 1
    assert world.gateway.health(WS, "ev").status is McpStatus.HEALTHY
    [new_pid] = children(marker)
    assert new_pid != pid


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # a dead child stays (a zombie) until it is reaped
    except ProcessLookupError:
        return True
    return False


async def test_through_the_api_with_the_platform(python_mcp_servers: None, tmp_path: Path) -> None:
    container = build(embedded_settings(tmp_path, mcp_stdio=True))
    await container.start()
    marker = "Europe/Paris"
    try:
        app = create_app(container, manage_lifecycle=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v1") as api:
            creds = json.loads((container.settings.data_dir / "credentials.json").read_text())
            api.headers["Authorization"] = f"Bearer {creds['api_key']}"
            body = {
                "name": "time",
                "command": sys.executable,
                "args": ["-m", "mcp_server_time", "--local-timezone", marker],
            }
            assert (await api.post("/mcp-servers", json=body)).status_code == 201
            found = await api.get("/mcp-servers/time/tools")
            assert found.status_code == 200, found.text
            assert "mcp.time.get_current_time" in [t["name"] for t in found.json()["items"]]
            probed = (await api.post("/mcp-servers/time/probe")).json()["health"]
            assert (probed["status"], probed["tools"]) == ("healthy", 2)
            assert len(children(marker)) == 1
            [clock] = [t for t in await container.mcp.tools_for(WS) if "current" in t.spec.name]
            assert "Europe/Paris" in await clock.call({"timezone": "Europe/Paris"}, CTX)
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)
    assert children(marker) == []  # stopping the platform stopped the server

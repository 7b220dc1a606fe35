"""A run calls the tools of real published MCP servers: mcp-server-time and
mcp-server-git over stdio, and @modelcontextprotocol/server-everything over
stdio and streamable HTTP, offered to a role whose manifest asks for them
by name or pattern, through the same policy gate as every tool."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic_ai.messages import ModelResponse
from test_policy_gate import (
    OneModel,
    ScriptedModel,
    answer,
    parked_run,
    settled,
    tool_call,
    tool_results,
)

from swarmyard.catalog.loader import parse_manifest
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, TaskStatus
from swarmyard.ports import ModelCall
from swarmyard.runtime.wiring import build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task
from swarmyard.testing.mcp_servers import (
    EverythingServer,
    everything_or_reason,
    http_everything,
    python_server_or_reason,
)
from swarmyard.testing.skips import unavailable

pytestmark = pytest.mark.mcp

RESEARCHER = {
    "id": "researcher",
    "name": "Researcher",
    "version": "1.0.0",
    "role": "researcher",
    "system_prompt": "You look things up with the tools you have.",
    "capabilities": [{"id": "look-up", "name": "Look up", "task_types": ["research"]}],
    "allowed_tools": ["mcp.time.*", "mcp.git.git_status", "mcp.ev.echo", "mcp.evh.get-sum"],
}
NPM_CACHE = Path(__file__).resolve().parents[1] / ".npm-cache"


@pytest.fixture
def python_servers() -> None:
    """The published Python servers are installed (the `dev` extra), or the
    test says why not."""
    for module, package in (
        ("mcp_server_time", "mcp-server-time"),
        ("mcp_server_git", "mcp-server-git"),
    ):
        reason = python_server_or_reason(module, package)
        if reason is not None:
            unavailable(reason)


@pytest.fixture
def everything(python_servers: None) -> EverythingServer:
    """And the npm server, installed into tests/.npm-cache on first use."""
    found = everything_or_reason(NPM_CACHE)
    if isinstance(found, str):
        unavailable(found)
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "notes.txt").write_text("draft\n")
    return path


def look_up(call: ModelCall) -> ModelResponse:
    seen = tool_results(call)
    offered = sorted(t.name for t in call.tools)
    if "t1" not in seen:
        return tool_call("mcp.time.get_current_time", "t1", timezone="Europe/Paris")
    if "g1" not in seen:
        return tool_call("mcp.git.git_status", "g1", repo_path=call.task_description)
    if "e1" not in seen:
        return tool_call("mcp.ev.echo", "e1", message="over stdio")
    if "s1" not in seen:
        return tool_call("mcp.evh.get-sum", "s1", a=2, b=3)
    said = "\n".join(f"{key}: {seen[key]}" for key in ("t1", "g1", "e1", "s1"))
    return answer(f"offered: {offered}\n{said}")


async def test_a_run_calls_tools_of_real_mcp_servers(
    everything: EverythingServer, repo: Path, tmp_path: Path
) -> None:
    async with http_everything(everything) as url:
        await _run_with_servers(everything, url, repo, tmp_path)


async def _run_with_servers(
    everything: EverythingServer, url: str, repo: Path, tmp_path: Path
) -> None:
    c = build(
        # The HTTP server is on loopback, which an operator allows explicitly.
        embedded_settings(tmp_path / "data", mcp_stdio=True, egress_allow=["127.0.0.1"]),
        models=OneModel(ScriptedModel(look_up)),
    )
    await c.start()
    try:
        await c.catalog.add(WS, parse_manifest(RESEARCHER, source="test"))
        await c.registry.install(WS, "researcher")
        # After its first MCP answer the run holds an outsider's text, and every
        # MCP tool may send its arguments on: without this the second call
        # would wait for a person (tests/integration/test_policy_gate.py).
        await c.policies.put(
            WS,
            {
                "name": "researcher-trusts-its-servers",
                "scope": "role",
                "scope_id": "researcher",
                "untrusted_egress": "allow",
            },
            by="test",
            create=True,
        )
        for body in (
            {"name": "time", "command": sys.executable, "args": ["-m", "mcp_server_time"]},
            {
                "name": "git",
                "command": sys.executable,
                "args": ["-m", "mcp_server_git", "--repository", str(repo)],
            },
            {"name": "ev", "command": everything.node, "args": [str(everything.script), "stdio"]},
            {"name": "evh", "url": url},
        ):
            await c.mcp_servers.register(WS, body, by="test")
        task = await c.tasks.create(
            WS, NewTask(title="What time is it?", type="research", description=str(repo))
        )
        done = await asyncio.wait_for(wait_for_task(c, WS, task.id, settled, timeout=60), 90)
        assert done.status is TaskStatus.DONE, done.result
        result = done.result or ""
        # Only the tools the manifest asked for were offered.
        assert "'mcp.git.git_status'" in result
        assert "mcp.git.git_log" not in result
        assert "mcp.time.convert_time" in result
        assert "Europe/Paris" in result
        assert "notes.txt" in result  # git status of the repository: an untracked file
        assert "e1: Echo: over stdio" in result
        assert "s1: The sum of 2 and 3 is 5." in result
        assert "mcp.ev.get-sum" not in result
        runs = await c.runs.for_task(WS, task.id)
        events = await c.runs.events(WS, runs[0].id)
        results = [e.payload for e in events if e.type is EventType.TOOL_RESULT]
        assert [(r["tool"], r["ok"]) for r in results] == [
            ("mcp.time.get_current_time", True),
            ("mcp.git.git_status", True),
            ("mcp.ev.echo", True),
            ("mcp.evh.get-sum", True),
        ]
    finally:
        await asyncio.wait_for(c.stop(grace=5.0), 30)


def two_clocks(call: ModelCall) -> ModelResponse:
    seen = tool_results(call)
    if "t1" not in seen:
        return tool_call("mcp.time.get_current_time", "t1", timezone="UTC")
    if "t2" not in seen:
        args = {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"}
        return tool_call("mcp.time.convert_time", "t2", **args)
    return answer(f"tokyo: {seen['t2']}")


async def test_after_an_mcp_answer_the_next_mcp_call_waits_for_a_person(
    python_servers: None, tmp_path: Path
) -> None:
    """With no policy saying otherwise, a server's answer is an outsider's
    text and its tools may send data on: the second call is held back."""
    c = build(
        embedded_settings(tmp_path / "data", mcp_stdio=True),
        models=OneModel(ScriptedModel(two_clocks)),
    )
    await c.start()
    try:
        await c.catalog.add(WS, parse_manifest(RESEARCHER, source="test"))
        await c.registry.install(WS, "researcher")
        body = {"name": "time", "command": sys.executable, "args": ["-m", "mcp_server_time"]}
        await c.mcp_servers.register(WS, body, by="test")
        task = await c.tasks.create(WS, NewTask(title="Noon in Tokyo?", type="research"))
        _run_id, approval_id = await asyncio.wait_for(parked_run(c, task.id), 90)
        approval = await c.approvals.get(WS, approval_id)
        assert approval.tool == "mcp.time.convert_time"
        assert "untrusted_egress" in approval.rule
    finally:
        await asyncio.wait_for(c.stop(grace=5.0), 30)

"""``swarmyard mcp`` against a real server (the embedded platform under uvicorn
on a loopback port) whose MCP client talks to scripted servers: add, list,
tools, probe, update and remove, secrets from stdin that never show again,
and bad input (a URL inside the host's networks too) as a message with a
non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from test_cli_spending import Live, ok
from typer.testing import CliRunner, Result

from swarmyard.adapters.mcp import FakeMcpConnector, FakeMcpServer
from swarmyard.api.app import create_app
from swarmyard.cli.main import app as cli_app
from swarmyard.ports import McpToolInfo
from swarmyard.runtime.wiring import build
from swarmyard.testing import embedded_settings

SECRET = "ghp_cli-secret-0123456789-NEVER-SHOWN"
Invoke = Callable[..., Result]


@pytest.fixture
def servers() -> dict[str, FakeMcpServer]:
    return {
        "mcp-server-git": FakeMcpServer(
            tools=[
                McpToolInfo("git_status", "Shows the working tree status.", {"type": "object"}),
                McpToolInfo("git_log", "Shows the commit logs.", {"type": "object"}),
            ]
        ),
        "https://down.example.com/mcp": FakeMcpServer(down="ConnectError: connection refused"),
    }


@pytest.fixture
def live(tmp_path: Path, servers: dict[str, FakeMcpServer]) -> Iterator[Live]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = embedded_settings(tmp_path, port=port, mcp_stdio=True)
    container = build(settings, mcp=FakeMcpConnector(servers))
    config = uvicorn.Config(
        create_app(container), log_level="warning", ws="none", access_log=False, log_config=None
    )
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(server.serve(sockets=[sock]),), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server thread died while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield Live(f"http://127.0.0.1:{port}", container, container.settings.data_dir, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()
        sock.close()


@pytest.fixture
def cli(live: Live) -> Invoke:
    def invoke(*args: str, input: str | None = None) -> Result:
        env = {
            "SWARMYARD_DATA_DIR": str(live.data_dir),
            "SWARMYARD_URL": None,
            "SWARMYARD_API_KEY": None,
            "SWARMYARD_WORKSPACE": None,
            "COLUMNS": "200",
        }
        return CliRunner().invoke(cli_app, ["--url", live.url, *args], input=input, env=env)

    return invoke


def failed(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_add_list_tools_probe_remove(
    cli: Invoke, live: Live, servers: dict[str, FakeMcpServer]
) -> None:
    out = ok(
        cli(
            "mcp", "add", "git", "--command", "mcp-server-git",
            "--arg", "--repository", "--arg", "/srv/repo",
            "--env", "LOG_LEVEL=debug=loud", "--secret-env", "GIT_TOKEN",
            input=SECRET + "\n",
        )
    )  # fmt: skip
    assert out.strip() == "added MCP server git (stdio, secrets sealed: GIT_TOKEN)"
    listed = ok(cli("mcp", "list"))
    [row] = [line.split() for line in listed.splitlines() if line.startswith("git")]
    assert row[:6] == ["git", "stdio", "mcp-server-git", "--repository", "/srv/repo", "yes"]
    assert "unknown" in row

    tools = ok(cli("mcp", "tools", "git"))
    assert "mcp.git.git_status" in tools
    assert "Shows the commit logs." in tools
    [endpoint] = servers["mcp-server-git"].endpoints
    assert endpoint.env == {"LOG_LEVEL": "debug=loud", "GIT_TOKEN": SECRET}
    assert endpoint.args == ("--repository", "/srv/repo")

    probed = ok(cli("mcp", "probe", "git"))
    assert probed.startswith("git: healthy, 2 tools")
    as_json = json.loads(ok(cli("--json", "mcp", "list")))
    assert as_json["items"][0]["secret_env"] == ["GIT_TOKEN"]
    assert as_json["items"][0]["health"]["status"] == "healthy"
    for text in (out, listed, tools, probed, json.dumps(as_json)):
        assert SECRET not in text

    assert ok(cli("mcp", "remove", "git")).strip() == "removed MCP server git"
    assert "no MCP servers" in ok(cli("mcp", "list"))
    assert "not found" in failed(cli("mcp", "remove", "git"))


def test_an_unreachable_server_fails_its_probe_and_discovery(cli: Invoke) -> None:
    ok(cli("mcp", "add", "down", "--url", "https://down.example.com/mcp", "--header", "X-A=1"))
    assert "connection refused" in failed(cli("mcp", "probe", "down"))
    err = failed(cli("mcp", "tools", "down"))
    assert "unavailable" in err
    assert "connection refused" in err
    assert "unhealthy" in ok(cli("mcp", "list"))


def test_bad_input_names_the_problem(cli: Invoke) -> None:
    assert "name" in failed(cli("mcp", "add", "Bad Name", "--command", "x"))
    assert "command" in failed(cli("mcp", "add", "nothing"))
    assert "url" in failed(cli("mcp", "add", "ftp", "--url", "ftp://files.example.com"))
    assert "NAME=VALUE" in failed(cli("mcp", "add", "x", "--command", "c", "--env", "LONELY"), 2)
    empty = cli("mcp", "add", "x", "--command", "c", "--secret-env", "TOKEN", input="\n")
    assert "is empty" in failed(empty, 2)
    ok(cli("mcp", "add", "git", "--command", "mcp-server-git"))
    assert "already registered" in failed(cli("mcp", "add", "git", "--url", "https://a.example/m"))
    assert "not found" in failed(cli("mcp", "tools", "nope"))


def test_update_changes_what_is_given_and_restarts_the_server(
    cli: Invoke, servers: dict[str, FakeMcpServer]
) -> None:
    ok(cli("mcp", "add", "git", "--command", "mcp-server-git", "--env", "LOG_LEVEL=debug"))
    ok(cli("mcp", "tools", "git"))
    [first] = servers["mcp-server-git"].sessions
    out = ok(
        cli(
            "mcp", "update", "git", "--arg", "--repository", "--arg", "/srv/other",
            "--secret-env", "GIT_TOKEN", "--disabled",
            input=SECRET + "\n",
        )
    )  # fmt: skip
    assert out.strip() == "updated MCP server git (stdio, secrets sealed: GIT_TOKEN)"
    assert first.closed  # the old process is stopped
    shown = json.loads(ok(cli("--json", "mcp", "list")))["items"][0]
    assert (shown["args"], shown["env"], shown["enabled"]) == (
        ["--repository", "/srv/other"],
        {"LOG_LEVEL": "debug"},
        False,
    )
    ok(cli("mcp", "probe", "git"))
    endpoint = servers["mcp-server-git"].endpoints[-1]
    assert endpoint.args == ("--repository", "/srv/other")
    assert endpoint.env == {"LOG_LEVEL": "debug", "GIT_TOKEN": SECRET}

    cleared = json.loads(ok(cli("--json", "mcp", "update", "git", "--clear", "env", "--enabled")))
    assert (cleared["env"], cleared["enabled"], cleared["secret_env"]) == ({}, True, ["GIT_TOKEN"])
    assert SECRET not in out + json.dumps(cleared)


def test_update_refuses_bad_input_and_changes_nothing(cli: Invoke) -> None:
    assert "not found" in failed(cli("mcp", "update", "nope", "--disabled"))
    ok(cli("mcp", "add", "down", "--url", "https://down.example.com/mcp"))
    assert "at least one" in failed(cli("mcp", "update", "down"), 2)
    assert "refused (loopback)" in failed(
        cli("mcp", "update", "down", "--url", "http://127.0.0.1:5432/")
    )
    assert "refused (metadata)" in failed(
        cli("mcp", "add", "cloud", "--url", "http://169.254.169.254/latest/")
    )
    assert "NAME=VALUE" in failed(cli("mcp", "update", "down", "--header", "LONELY"), 2)
    shown = json.loads(ok(cli("--json", "mcp", "list")))["items"]
    assert [(s["name"], s["url"]) for s in shown] == [("down", "https://down.example.com/mcp")]

"""The MCP gateway on scripted servers (the in-memory connector) and the
memory store: registration and its refusals, tools named and exposed as
ours, results and error results, the discovery cache, health with
backoff, restarts of a dead server, changes seen by every process, and
closing everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.mcp import FakeMcpConnector, FakeMcpServer
from swarmyard.adapters.net import EgressGuard
from swarmyard.adapters.security import FernetSecretBox
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import (
    DEFAULT_WORKSPACE,
    Conflict,
    FakeClock,
    NotFound,
    SequentialIds,
    ValidationFailed,
    Workspace,
)
from swarmyard.domain.mcp import McpStatus, mcp_tool_name
from swarmyard.ports import McpCallResult, McpToolInfo, McpUnavailable, ToolContext, ToolError
from swarmyard.services.deps import Deps
from swarmyard.services.mcp_gateway import McpGateway, McpServerUnavailable
from swarmyard.services.mcp_servers import McpServerService
from swarmyard.services.mcp_tools import result_text

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WS = DEFAULT_WORKSPACE
CTX = ToolContext(workspace_id=WS, run_id="r1", task_id="t1", role="developer")
SECRET = "tok-0123456789-SECRET"


def tool(name: str, **schema: Any) -> McpToolInfo:
    return McpToolInfo(
        name=name,
        description=f"The {name} tool.",
        input_schema={"type": "object", "properties": schema},
    )


class Env:
    def __init__(self, *, stdio_allowed: bool = True) -> None:
        self.clock = FakeClock(T0)
        self.store = MemoryStore()
        deps = Deps(store=self.store, bus=MemoryBus(), clock=self.clock, ids=SequentialIds())
        box = FernetSecretBox(b"test secret")
        self.time = FakeMcpServer(tools=[tool("get_current_time", timezone={"type": "string"})])
        self.remote = FakeMcpServer(tools=[tool("echo"), tool("get-sum")])
        self.connector = FakeMcpConnector(
            {"time-server": self.time, "https://x.test/mcp": self.remote}
        )
        self.gateway = McpGateway(
            deps, self.connector, box, stdio_allowed=stdio_allowed, tools_ttl=60, probe_every=30
        )
        self.servers = McpServerService(
            deps,
            box,
            stdio_allowed=stdio_allowed,
            egress=EgressGuard(),
            on_change=self.gateway.forget,
        )

    async def start(self) -> Env:
        await self.store.add_workspace(Workspace(WS, "Default", T0))
        return self

    async def register(self, **body: Any) -> None:
        await self.servers.register(WS, body, by="user:admin")

    def later(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))


@pytest.fixture
async def env() -> Env:
    return await Env().start()


async def names(env: Env) -> list[str]:
    return [t.spec.name for t in await env.gateway.tools_for(WS)]


# ------------------------------------------------------------------ registration


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "Bad Name", "command": "x"}, "name"),
        ({"name": "x"}, "command"),
        ({"name": "x", "transport": "http"}, "url"),
        ({"name": "x", "url": "ftp://files.example.com/"}, "url"),
        ({"name": "x", "url": "https://user:pw@x.test/mcp"}, "url"),
        ({"name": "x", "command": "c", "url": "https://x.test/mcp"}, "transport"),
        ({"name": "x", "transport": "stdio", "command": "c", "url": "https://x.test"}, "url"),
        ({"name": "x", "url": "https://x.test/mcp", "env": {"A": "1"}}, "env"),
        ({"name": "x", "command": "c", "env": {"1BAD": "1"}}, "env"),
        (
            {"name": "x", "command": "c", "env": {"A": "1"}, "secret_env": {"A": "2"}},
            "secret_env.A",
        ),
        ({"name": "x", "url": "https://x.test/mcp", "headers": {"Bad Header": "1"}}, "headers"),
        ({"name": "x", "url": "https://x.test/mcp", "headers": {"X-A": "a\r\nb"}}, "headers"),
        ({"name": "x", "url": "https://x.test/mcp", "headers": {"Mcp-Session-Id": "1"}}, "headers"),
        ({"name": "x", "command": "c", "timeout_seconds": 0}, "timeout_seconds"),
        ({"name": "x", "command": "c", "colour": "red"}, "colour"),
        ({"name": "x", "transport": "carrier-pigeon", "command": "c"}, "transport"),
    ],
)
async def test_bad_registrations_name_the_field_and_store_nothing(
    env: Env, body: dict[str, Any], path: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await env.register(**body)
    assert path in {p.path for p in refused.value.problems}, refused.value.problems
    assert await env.servers.list(WS) == []


async def test_secrets_are_sealed_and_only_named(env: Env) -> None:
    await env.register(
        name="remote",
        url="https://x.test/mcp",
        headers={"X-Team": "blue"},
        secret_headers={"Authorization": f"Bearer {SECRET}"},
    )
    stored = await env.servers.get(WS, "remote")
    assert stored.secret_headers == ["Authorization"]
    assert stored.headers == {"X-Team": "blue"}
    assert stored.sealed_secrets is not None
    assert SECRET not in repr(stored)
    # The server gets them in clear, merged with the plain ones.
    await env.gateway.tools_for(WS)
    [endpoint] = env.remote.endpoints
    assert dict(endpoint.headers) == {"X-Team": "blue", "Authorization": f"Bearer {SECRET}"}


async def test_a_name_is_taken_once_and_stdio_needs_the_operator(env: Env) -> None:
    await env.register(name="time", command="time-server")
    with pytest.raises(Conflict):
        await env.register(name="time", url="https://x.test/mcp")
    closed = await Env(stdio_allowed=False).start()
    with pytest.raises(ValidationFailed, match="SWARMYARD_MCP_STDIO"):
        await closed.register(name="time", command="time-server")
    await closed.register(name="remote", url="https://x.test/mcp")


# ------------------------------------------------------------------ tools


async def test_tools_are_named_described_and_called(env: Env) -> None:
    await env.register(name="time", command="time-server", env={"TZ": "UTC"})
    await env.register(name="remote", url="https://x.test/mcp")
    tools = {t.spec.name: t for t in await env.gateway.tools_for(WS)}
    assert sorted(tools) == ["mcp.remote.echo", "mcp.remote.get-sum", "mcp.time.get_current_time"]
    clock = tools["mcp.time.get_current_time"]
    assert clock.spec.description == "The get_current_time tool."
    assert clock.spec.parameters["properties"] == {"timezone": {"type": "string"}}
    assert {"egress", "untrusted_content", "reads_private"} <= clock.spec.effects
    assert "reads_private" not in tools["mcp.remote.echo"].spec.effects
    answer = await clock.call({"timezone": "UTC"}, CTX)
    assert answer == "get_current_time {'timezone': 'UTC'}"
    assert env.time.endpoints[0].env == {"TZ": "UTC"}
    # Another workspace's run cannot use them.
    with pytest.raises(ToolError, match="another workspace"):
        await clock.call({}, ToolContext("other", "r", "t", "developer"))


async def test_error_results_and_refusals_are_tool_errors(env: Env) -> None:
    def handler(name: str, args: dict[str, Any]) -> McpCallResult:
        return McpCallResult(texts=("Invalid timezone: 'Mars/Olympus'",), is_error=True)

    env.time.handler = handler
    await env.register(name="time", command="time-server")
    [clock] = await env.gateway.tools_for(WS)
    with pytest.raises(ToolError, match="Invalid timezone"):
        await clock.call({"timezone": "Mars/Olympus"}, CTX)
    env.time.tools = []  # the server no longer has it: it refuses the call
    with pytest.raises(ToolError, match="unknown tool"):
        await clock.call({}, CTX)


def test_results_keep_text_and_add_structured_content_only_when_it_says_more() -> None:
    same = McpCallResult(texts=('{"a": 1}',), structured={"a": 1})
    assert result_text(same) == '{"a": 1}'
    more = McpCallResult(
        texts=("It is 9 o'clock.", "[image image/png, 3 bytes, not shown]"), structured={"h": 9}
    )
    assert result_text(more) == 'It is 9 o\'clock.\n[image image/png, 3 bytes, not shown]\n{"h": 9}'
    assert result_text(McpCallResult(texts=(), structured=[1, 2])) == "[1, 2]"


def test_tool_names_fit_what_models_accept() -> None:
    assert mcp_tool_name("git", "git_status") == "mcp.git.git_status"
    assert mcp_tool_name("fs", "read file/ü") == "mcp.fs.read_file__"
    long = mcp_tool_name("a" * 30, "b" * 60)
    assert len(long) == 64
    assert long == mcp_tool_name("a" * 30, "b" * 60)  # stable across discoveries
    assert mcp_tool_name("fs", "read file", {"mcp.fs.read_file"}).startswith("mcp.fs.read_file-")


async def test_listings_are_cached_then_refreshed(env: Env) -> None:
    await env.register(name="remote", url="https://x.test/mcp")
    assert await names(env) == ["mcp.remote.echo", "mcp.remote.get-sum"]
    env.remote.tools.append(tool("new-one"))
    assert len(await names(env)) == 2  # cached
    assert [t.spec.name for t in await env.gateway.discover(WS, "remote")][
        -1
    ] == "mcp.remote.new-one"
    env.remote.tools.pop()
    env.later(61)
    assert len(await names(env)) == 2  # the cache's time ran out
    assert env.remote.starts == 1  # one session all along


# ------------------------------------------------------------------ health


async def test_an_unreachable_server_is_unhealthy_with_backoff(env: Env) -> None:
    env.remote.down = "ConnectError: All connection attempts failed"
    await env.register(name="remote", url="https://x.test/mcp")
    await env.register(name="time", command="time-server")
    assert await names(env) == ["mcp.time.get_current_time"]  # the healthy one still serves
    health = env.gateway.health(WS, "remote")
    assert health.status is McpStatus.UNHEALTHY
    assert "All connection attempts failed" in (health.error or "")
    assert health.retry_at == T0 + timedelta(seconds=1)
    await names(env)
    assert env.remote.starts == 1  # not tried again within the backoff
    env.later(1)
    await names(env)
    assert env.remote.starts == 2
    assert env.gateway.health(WS, "remote").retry_at == T0 + timedelta(seconds=3)  # doubled
    # A probe tries now, whatever the backoff, and says what it found.
    env.remote.down = None
    health = await env.gateway.probe(WS, "remote")
    assert (health.status, health.error, health.tools, health.retry_at) == (
        McpStatus.HEALTHY,
        None,
        2,
        None,
    )
    assert env.gateway.health(WS, "time").status is McpStatus.HEALTHY


async def test_discovery_of_an_unreachable_server_is_502_naming_the_error(env: Env) -> None:
    env.remote.down = "HTTP 401 from https://x.test/mcp"
    await env.register(name="remote", url="https://x.test/mcp")
    with pytest.raises(McpServerUnavailable, match="HTTP 401") as failed:
        await env.gateway.discover(WS, "remote")
    assert failed.value.status == 502
    with pytest.raises(NotFound):
        await env.gateway.discover(WS, "nope")


async def test_secret_values_never_appear_in_errors(env: Env) -> None:
    env.remote.down = f"server said: bad token {SECRET}"
    await env.register(
        name="remote",
        url="https://x.test/mcp",
        secret_headers={"Authorization": f"Bearer {SECRET}"},
    )
    await env.gateway.tools_for(WS)
    error = env.gateway.health(WS, "remote").error or ""
    assert "bad token ***" in error
    assert SECRET not in error


async def test_a_dead_server_is_restarted_on_next_use(env: Env) -> None:
    await env.register(name="time", command="time-server")
    [clock] = await env.gateway.tools_for(WS)
    env.time.kill()
    assert await clock.call({}, CTX)  # a new process answers
    assert env.time.starts == 2
    assert env.gateway.health(WS, "time").restarts == 1

    # Died during a call: the call fails (it may have run), the next one restarts.
    def dying(name: str, args: dict[str, Any]) -> McpCallResult:
        env.time.kill()
        raise McpUnavailable("MCP server 'time': the connection ended", lost=True)

    env.time.handler = dying
    with pytest.raises(ToolError, match="may or may not have run"):
        await clock.call({}, CTX)
    assert env.gateway.health(WS, "time").status is McpStatus.UNHEALTHY
    env.time.handler = lambda name, args: McpCallResult(texts=("back",))
    assert await clock.call({}, CTX) == "back"  # at once: no backoff after a lost connection
    assert env.gateway.health(WS, "time").restarts == 2


async def test_the_sweep_restarts_dead_servers_and_checks_live_ones(env: Env) -> None:
    await env.register(name="time", command="time-server")
    await env.register(name="remote", url="https://x.test/mcp", timeout_seconds=0.05)
    await env.gateway.tools_for(WS)
    env.time.kill()
    await env.gateway.sweep()
    assert env.time.starts == 2  # restarted in the background
    assert env.remote.starts == 1
    # A server that stops answering is found out by the periodic check.
    env.remote.hang = True
    env.later(30)
    remote = env.gateway.health(WS, "remote")
    assert remote.status is McpStatus.HEALTHY
    await env.gateway.sweep()
    remote = env.gateway.health(WS, "remote")
    assert remote.status is McpStatus.UNHEALTHY
    assert "did not answer" in (remote.error or "")


async def test_hung_calls_time_out_as_tool_errors(env: Env) -> None:
    await env.register(name="remote", url="https://x.test/mcp", timeout_seconds=0.05)
    [echo, _] = await env.gateway.tools_for(WS)
    env.remote.hang = True
    with pytest.raises(ToolError, match="did not answer"):
        await echo.call({}, CTX)


async def test_disabled_removed_and_replaced_servers(env: Env) -> None:
    await env.register(name="time", command="time-server", enabled=False)
    assert await names(env) == []
    health = await env.gateway.probe(WS, "time")  # a person may still try it
    assert health.status is McpStatus.HEALTHY
    assert env.time.sessions[-1].closed  # and nothing is left running
    assert env.gateway.health(WS, "time").status is McpStatus.UNKNOWN

    await env.register(name="remote", url="https://x.test/mcp")
    [echo, _] = await env.gateway.tools_for(WS)
    await env.servers.remove(WS, "remote")
    assert env.remote.sessions[0].closed
    with pytest.raises(ToolError, match="no longer available"):
        await echo.call({}, CTX)
    assert await names(env) == []


async def test_a_change_through_another_process_is_noticed_at_the_next_use(env: Env) -> None:
    await env.register(name="time", command="time-server", args=["--a"])
    await env.gateway.tools_for(WS)
    elsewhere = McpServerService(
        Deps(store=env.store, bus=MemoryBus(), clock=env.clock, ids=SequentialIds()),
        FernetSecretBox(b"test secret"),
        stdio_allowed=True,
        egress=EgressGuard(),
    )
    # The clock has not moved: the change still moves updated_at, which is how it is seen.
    changed = await elsewhere.update(WS, "time", {"args": ["--b"]})
    assert changed.updated_at > T0
    assert not env.time.sessions[0].closed
    assert await names(env) == ["mcp.time.get_current_time"]
    assert env.time.sessions[0].closed
    assert env.time.endpoints[-1].args == ("--b",)
    with pytest.raises(NotFound):
        await elsewhere.update(WS, "nope", {"enabled": False})


async def test_a_change_needing_unreadable_secrets_asks_for_them_again(env: Env) -> None:
    await env.register(
        name="remote", url="https://x.test/mcp", secret_headers={"Authorization": SECRET}
    )
    rekeyed = McpServerService(
        Deps(store=env.store, bus=MemoryBus(), clock=env.clock, ids=SequentialIds()),
        FernetSecretBox(b"another secret"),
        stdio_allowed=True,
        egress=EgressGuard(),
    )
    with pytest.raises(ValidationFailed, match="sealed under another key") as refused:
        await rekeyed.update(WS, "remote", {"enabled": False})
    assert [p.path for p in refused.value.problems] == ["secret_headers"]
    assert (await env.servers.get(WS, "remote")).enabled
    changed = await rekeyed.update(
        WS, "remote", {"enabled": False, "secret_headers": {"Authorization": "new-token"}}
    )
    assert (changed.enabled, changed.secret_headers) == (False, ["Authorization"])


async def test_closing_ends_every_session(env: Env) -> None:
    await env.register(name="time", command="time-server")
    await env.register(name="remote", url="https://x.test/mcp")
    await env.gateway.tools_for(WS)
    await env.gateway.aclose()
    assert all(s.closed for s in [*env.time.sessions, *env.remote.sessions])
    assert await env.gateway.tools_for(WS) == []


async def test_stdio_servers_turned_off_later_are_not_started() -> None:
    env = await Env().start()
    await env.register(name="time", command="time-server")
    off = McpGateway(
        Deps(store=env.store, bus=MemoryBus(), clock=env.clock, ids=SequentialIds()),
        env.connector,
        FernetSecretBox(b"test secret"),
        stdio_allowed=False,
    )
    assert await off.tools_for(WS) == []
    assert "SWARMYARD_MCP_STDIO" in (off.health(WS, "time").error or "")
    assert env.time.starts == 0

"""An in-memory MCP connector: scripted servers for tests of the gateway.

A `FakeMcpServer` lists the tools it was given and answers calls with a
handler; tests can take it down (connecting then fails), kill its sessions
(as if the process died) or make it hang, and count how often it was
started. Servers are found by the endpoint's command (stdio) or URL (http).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ...ports.mcp import McpCallResult, McpEndpoint, McpRequestFailed, McpToolInfo, McpUnavailable

__all__ = ["FakeMcpConnector", "FakeMcpServer", "FakeMcpSession"]

Handler = Callable[[str, dict[str, Any]], Awaitable[McpCallResult] | McpCallResult]


def _echo(name: str, args: dict[str, Any]) -> McpCallResult:
    return McpCallResult(texts=(f"{name} {args}",))


@dataclass
class FakeMcpServer:
    tools: list[McpToolInfo] = field(default_factory=list)
    handler: Handler = _echo
    down: str | None = None  # set: connecting fails with this message
    hang: bool = False  # requests never answer (until their timeout)
    starts: int = 0
    endpoints: list[McpEndpoint] = field(default_factory=list)  # as each start received it
    sessions: list[FakeMcpSession] = field(default_factory=list)

    def kill(self) -> None:
        """The process died: every open session is lost."""
        for session in self.sessions:
            session.lost = True


class FakeMcpSession:
    def __init__(self, server: FakeMcpServer, label: str) -> None:
        self._server = server
        self._label = label
        self.lost = False
        self.aclosed = False

    @property
    def closed(self) -> bool:
        return self.lost or self.aclosed

    async def list_tools(self, *, timeout: float) -> list[McpToolInfo]:
        await self._answer(timeout)
        return list(self._server.tools)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], *, timeout: float
    ) -> McpCallResult:
        await self._answer(timeout)
        if name not in {t.name for t in self._server.tools}:
            raise McpRequestFailed(f"{self._label} refused the call: unknown tool {name}")
        result = self._server.handler(name, arguments)
        return await result if isinstance(result, Awaitable) else result

    async def _answer(self, timeout: float) -> None:
        if self.closed:
            raise McpUnavailable(f"{self._label}: the connection ended", lost=True)
        if self._server.hang:
            await asyncio.sleep(timeout)
            raise McpUnavailable(
                f"{self._label} did not answer within {timeout:g}s", timed_out=True
            )

    async def aclose(self) -> None:
        self.aclosed = True


class FakeMcpConnector:
    def __init__(self, servers: dict[str, FakeMcpServer] | None = None) -> None:
        self.servers = dict(servers or {})

    async def connect(self, endpoint: McpEndpoint, *, timeout: float) -> FakeMcpSession:
        label = endpoint.label or "the MCP server"
        where = endpoint.command or endpoint.url or ""
        server = self.servers.get(where)
        if server is None:
            raise McpUnavailable(f"{label}: no such command: {where}")
        server.starts += 1
        server.endpoints.append(endpoint)
        if server.down is not None:
            raise McpUnavailable(f"{label}: {server.down}")
        if server.hang:
            await asyncio.sleep(timeout)
            raise McpUnavailable(f"{label} did not complete the MCP handshake", timed_out=True)
        session = FakeMcpSession(server, label)
        server.sessions.append(session)
        return session

"""Ports of the MCP gateway: the store's repository of registered servers, and
the client that connects to one server and speaks the protocol to it.

The connector knows nothing of workspaces, secrets or health: the gateway
(services/mcp_gateway.py) hands it an `McpEndpoint` with every value in
clear, keeps the session it gets back, and decides when to restart it.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..domain.mcp import McpServer, McpTransport

__all__ = [
    "McpCallResult",
    "McpConnector",
    "McpEndpoint",
    "McpRequestFailed",
    "McpServerRepo",
    "McpSession",
    "McpToolInfo",
    "McpUnavailable",
]


class McpServerRepo(Protocol):
    async def add(self, server: McpServer) -> None:
        """Raises Conflict if the workspace already has a server of that name."""
        ...

    async def get(self, name: str) -> McpServer:
        """Raises NotFound."""
        ...

    async def list(self, *, enabled: bool | None = None) -> builtins.list[McpServer]:
        """By name; `enabled` keeps only the servers that are (or are not)."""
        ...

    async def delete(self, name: str) -> None:
        """Raises NotFound."""
        ...


@dataclass(frozen=True, slots=True)
class McpEndpoint:
    """How to reach one server, secrets opened: held in memory only."""

    transport: McpTransport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    label: str = ""  # how errors name the server ("mcp server 'git'")


@dataclass(frozen=True, slots=True)
class McpToolInfo:
    """One tool as the server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    # The server's own hints (MCP tool annotations); None when it gives none.
    read_only: bool | None = None
    open_world: bool | None = None


@dataclass(frozen=True, slots=True)
class McpCallResult:
    """A tool's answer: each content block rendered as text (images and other
    binary blocks as a short placeholder), and the structured content, if any."""

    texts: tuple[str, ...]
    structured: Any = None
    is_error: bool = False


class McpUnavailable(Exception):
    """The server could not be reached, did not answer in time, or the
    connection broke. `lost`: the connection is gone for good (the process
    exited, the stream ended); a new session is needed."""

    def __init__(self, message: str, *, lost: bool = False, timed_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.lost = lost
        self.timed_out = timed_out


class McpRequestFailed(Exception):
    """The server answered a request with a protocol error (an unknown tool,
    invalid arguments): the connection is fine."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class McpSession(Protocol):
    """One open connection (an initialised MCP session)."""

    @property
    def closed(self) -> bool:
        """The connection has ended (the server process exited, the stream
        closed, or `aclose` was called); every request would fail."""
        ...

    async def list_tools(self, *, timeout: float) -> list[McpToolInfo]:
        """Every tool, all pages. Raises McpUnavailable or McpRequestFailed."""
        ...

    async def call_tool(
        self, name: str, arguments: dict[str, Any], *, timeout: float
    ) -> McpCallResult:
        """Raises McpUnavailable or McpRequestFailed; a tool that failed in its
        own terms answers with `is_error`."""
        ...

    async def aclose(self) -> None:
        """End the session (a stdio server's process is stopped); idempotent."""
        ...


class McpConnector(Protocol):
    async def connect(self, endpoint: McpEndpoint, *, timeout: float) -> McpSession:
        """Start or reach the server and initialise a session within `timeout`
        seconds. Raises McpUnavailable naming what went wrong (nothing keeps
        running after a failure)."""
        ...

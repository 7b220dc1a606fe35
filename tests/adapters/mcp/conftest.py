"""Real published MCP servers: mcp-server-time and mcp-server-git (PyPI, the
`dev` extra) and @modelcontextprotocol/server-everything (npm, installed on
first use into tests/.npm-cache). Without them the tests skip, saying what
is missing, unless SWARMYARD_REQUIRE_SERVICES=1 makes that a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmyard.testing.mcp_servers import (
    EverythingServer,
    everything_or_reason,
    python_server_or_reason,
)
from swarmyard.testing.skips import unavailable

NPM_CACHE = Path(__file__).resolve().parents[2] / ".npm-cache"


@pytest.fixture(scope="session")
def python_mcp_servers() -> None:
    for module, package in (
        ("mcp_server_time", "mcp-server-time"),
        ("mcp_server_git", "mcp-server-git"),
    ):
        reason = python_server_or_reason(module, package)
        if reason is not None:
            unavailable(reason)


@pytest.fixture(scope="session")
def everything() -> EverythingServer:
    found = everything_or_reason(NPM_CACHE)
    if isinstance(found, str):
        unavailable(found)
    return found

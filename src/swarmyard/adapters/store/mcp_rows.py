"""Rows of registered MCP servers, shared by the SQL and the in-memory adapters."""

from __future__ import annotations

from swarmyard.domain.mcp import McpServer, McpTransport

from .rows import Codec

__all__ = ["MCP_SERVERS"]

MCP_SERVERS = Codec(
    McpServer,
    json=("args", "env", "headers", "secret_env", "secret_headers"),
    times=("created_at", "updated_at"),
    # Encoding through the enum refuses a misspelt transport, as rows.py does for statuses.
    convert={"transport": (lambda v: McpTransport(v).value, McpTransport)},
)

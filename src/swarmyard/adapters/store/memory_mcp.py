"""The in-memory repository of registered MCP servers (the counterpart of `sql_mcp.py`)."""

from __future__ import annotations

import builtins

from swarmyard.domain import Conflict, NotFound
from swarmyard.domain.mcp import McpServer

from .mcp_rows import MCP_SERVERS
from .memory_base import MemoryTx, thaw, thaw_all

__all__ = ["MemoryMcpServerRepo"]


class MemoryMcpServerRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.mcp_servers

    async def add(self, server: McpServer) -> None:
        key = (self._tx.workspace_id, server.name)
        if self._tx.mine(self._table.get(key)) is not None:
            raise Conflict(f"MCP server {server.name!r} is already registered")
        self._tx.put(self._table, key, self._tx.freeze(MCP_SERVERS, server))

    async def get(self, name: str) -> McpServer:
        row = self._tx.mine(self._table.get((self._tx.workspace_id, name)))
        if row is None:
            raise NotFound("MCP server", name)
        return thaw(MCP_SERVERS, row)

    async def list(self, *, enabled: bool | None = None) -> builtins.list[McpServer]:
        found = self._tx.scan(self._table, lambda r: enabled is None or r["enabled"] == enabled)
        found.sort(key=lambda r: r["name"])
        return thaw_all(MCP_SERVERS, found)

    async def delete(self, name: str) -> None:
        key = (self._tx.workspace_id, name)
        if self._tx.mine(self._table.get(key)) is None:
            raise NotFound("MCP server", name)
        self._tx.remove(self._table, key)

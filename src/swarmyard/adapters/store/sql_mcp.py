"""The SQL repository of registered MCP servers (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import builtins

from sqlalchemy import delete, select

from swarmyard.domain import Conflict, NotFound
from swarmyard.domain.mcp import McpServer

from .mcp_rows import MCP_SERVERS
from .rows import owned_row
from .sql_base import SqlTx
from .tables import mcp_servers

__all__ = ["SqlMcpServerRepo"]

_C = mcp_servers.c


class SqlMcpServerRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, server: McpServer) -> None:
        row = owned_row(MCP_SERVERS, server, self._tx.workspace_id)
        if not await self._tx.insert_new(mcp_servers, row):
            raise Conflict(f"MCP server {server.name!r} is already registered")

    async def get(self, name: str) -> McpServer:
        query = select(mcp_servers).where(self._tx.scoped(mcp_servers), _C.name == name)
        row = (await self._tx.execute(query)).mappings().first()
        if row is None:
            raise NotFound("MCP server", name)
        return MCP_SERVERS.decode(row)

    async def list(self, *, enabled: bool | None = None) -> builtins.list[McpServer]:
        query = select(mcp_servers).where(self._tx.scoped(mcp_servers))
        if enabled is not None:
            query = query.where(_C.enabled == enabled)
        query = query.order_by(self._tx.bytewise(_C.name))
        return [MCP_SERVERS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def delete(self, name: str) -> None:
        statement = delete(mcp_servers).where(self._tx.scoped(mcp_servers), _C.name == name)
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("MCP server", name)

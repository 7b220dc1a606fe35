"""The table of the MCP servers a workspace registered (domain/mcp.py)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, PrimaryKeyConstraint, String, Table, Text

from .coltypes import Json, UtcDateTime
from .table_base import metadata
from .table_base import workspace_column as _workspace

__all__ = ["mcp_servers"]

# MCP servers a workspace registered (domain/mcp.py). Secret environment
# values and headers are only in `sealed_secrets`, encrypted by the secret
# box; the JSON columns beside it hold their names and the plain values.
mcp_servers = Table(
    "mcp_servers",
    metadata,
    _workspace(),
    Column("name", String, nullable=False),
    Column("transport", String, nullable=False),
    Column("command", Text),
    Column("args", Json, nullable=False),
    Column("env", Json, nullable=False),
    Column("url", Text),
    Column("headers", Json, nullable=False),
    Column("secret_env", Json, nullable=False),
    Column("secret_headers", Json, nullable=False),
    Column("sealed_secrets", Text),
    Column("enabled", Boolean, nullable=False),
    Column("timeout_seconds", Float, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("created_by", String, nullable=False),
    PrimaryKeyConstraint("workspace_id", "name"),
)

"""What belongs to a workspace as a whole: its settings, and deleting it with
everything it owns.

Deleting runs one explicit DELETE per table rather than trusting ``ON
DELETE CASCADE``: a database created by hand, or a table whose foreign key
was never declared (refresh tokens name their workspace without one), would
otherwise keep rows of a tenant that is gone. `OWNED_TABLES` lists every
table holding a workspace's rows; a test compares it with the metadata, so
a new table cannot be forgotten.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from swarmyard.domain import NotFound

from .rows import as_utc
from .sql_base import SqlTx
from .tables import (
    agents,
    api_keys,
    approvals,
    audit,
    budget_counters,
    budget_reservations,
    budgets,
    executions,
    idempotency_keys,
    learning_profiles,
    ledger,
    manifests,
    mcp_servers,
    memberships,
    memory_items,
    memory_vectors,
    model_prices,
    outbox,
    projects,
    providers,
    refresh_tokens,
    run_events,
    runs,
    schedules,
    tasks,
    workspace_documents,
    workspace_settings,
    workspaces,
)
from .tables_skills import skill_installations, skill_packs

__all__ = ["OWNED_TABLES", "SqlWorkspaceRulesRepo", "delete_workspace"]

# Children before parents (a table before any table it references), then
# the workspace row itself. No table here references another one today;
# the order is kept so that one added later needs only its right place.
OWNED_TABLES: tuple[Table, ...] = (
    skill_installations,
    skill_packs,
    memory_vectors,
    memory_items,
    mcp_servers,
    approvals,
    run_events,
    runs,
    executions,
    learning_profiles,
    tasks,
    schedules,
    agents,
    manifests,
    projects,
    idempotency_keys,
    outbox,
    audit,
    api_keys,
    memberships,
    refresh_tokens,
    workspace_settings,
    budget_reservations,
    budget_counters,
    budgets,
    ledger,
    model_prices,
    providers,
    workspace_documents,
)


class SqlWorkspaceRulesRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def get(self) -> str:
        query = select(workspace_settings.c.authz_rules).where(self._tx.scoped(workspace_settings))
        found = (await self._tx.execute(query)).scalar_one_or_none()
        return "" if found is None else str(found)

    async def set(self, text: str, *, at: datetime, by: str) -> None:
        # An empty text is stored like any other: the row still says who
        # removed the rules and when.
        row = {
            "workspace_id": self._tx.workspace_id,
            "authz_rules": text,
            "updated_at": as_utc(at),
            "updated_by": by,
        }
        await self._tx.upsert(workspace_settings, row)


async def delete_workspace(conn: AsyncConnection, workspace_id: str) -> None:
    """Delete the workspace and its rows inside the caller's transaction.

    The workspace row is locked first (``FOR UPDATE``; SQLite's transaction
    already holds the only write lock): a unit of work writing into it
    concurrently either finished before, and its rows go too, or waits for
    this transaction and then fails its foreign key as `NotFound`.
    """
    lock = select(workspaces.c.id).where(workspaces.c.id == workspace_id).with_for_update()
    if (await conn.execute(lock)).first() is None:
        raise NotFound("workspace", workspace_id)
    for table in OWNED_TABLES:
        await conn.execute(delete(table).where(table.c.workspace_id == workspace_id))
    await conn.execute(delete(workspaces).where(workspaces.c.id == workspace_id))

"""In-memory counterparts of `sql_workspace.py`: a workspace's settings,
and deleting it with everything it owns.

`owned_tables` names, for every SQL table of `sql_workspace.OWNED_TABLES`,
where its rows live in the memory state; a test compares the two lists,
so a table added to one cannot be forgotten in the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from swarmyard.domain import NotFound

from .memory_base import MemoryJournal, MemoryState, MemoryTx
from .rows import Row, as_utc

__all__ = ["MemoryWorkspaceRulesRepo", "delete_workspace", "owned_tables"]


class MemoryWorkspaceRulesRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.settings

    async def get(self) -> str:
        row = self._tx.mine(self._table.get(self._tx.workspace_id))
        return "" if row is None else str(row["authz_rules"])

    async def set(self, text: str, *, at: datetime, by: str) -> None:
        # Stored even when empty, as in the SQL store: who removed them, and when.
        row = {
            "workspace_id": self._tx.workspace_id,
            "authz_rules": text,
            "updated_at": as_utc(at),
            "updated_by": by,
        }
        self._tx.put(self._table, self._tx.workspace_id, row)


def owned_tables(state: MemoryState) -> dict[str, list[dict[Any, Row]]]:
    """The memory tables holding workspaces' rows, by the SQL table each
    stands for (run events are kept per run, hence lists)."""
    return {
        "skill_installations": [state.skill_installations],
        "skill_packs": [state.skill_packs],
        "memory_vectors": [state.memory_vectors],
        "memory_items": [state.memory_items],
        "mcp_servers": [state.mcp_servers],
        "approvals": [state.approvals],
        "run_events": list(state.events.values()),
        "runs": [state.runs],
        "executions": [state.executions],
        "learning_profiles": [state.profiles],
        "tasks": [state.tasks],
        "schedules": [state.schedules],
        "agents": [state.agents],
        "manifests": [state.manifests],
        "projects": [state.projects],
        "idempotency_keys": [state.idempotency],
        "outbox": [state.outbox],
        "audit": [state.audit],
        "api_keys": [state.api_keys],
        "memberships": [state.members],
        "refresh_tokens": [state.refresh_tokens],
        "workspace_settings": [state.settings],
        "budgets": [state.budgets],
        "budget_counters": [state.counters],
        "budget_reservations": [state.reservations],
        "ledger": [state.ledger],
        "model_prices": [state.prices],
        "providers": [state.providers],
        "workspace_documents": [state.documents],
    }


def delete_workspace(journal: MemoryJournal, workspace_id: str) -> None:
    """Remove the workspace and its rows through `journal` (the caller
    commits, or rolls back should anything fail midway)."""
    state = journal.state
    if workspace_id not in state.workspaces:
        raise NotFound("workspace", workspace_id)
    for tables in owned_tables(state).values():
        for table in tables:
            for key in [k for k, r in table.items() if r["workspace_id"] == workspace_id]:
                journal.remove(table, key)
    journal.remove(state.workspaces, workspace_id)

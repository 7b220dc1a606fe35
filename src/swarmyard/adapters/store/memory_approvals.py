"""The in-memory approvals repository (the counterpart of `sql_approvals.py`)."""

from __future__ import annotations

import builtins
from datetime import datetime

from swarmyard.domain import Approval, ApprovalStatus, NotFound

from . import rows
from .memory_base import MemoryTx, thaw, thaw_all
from .rows import as_utc

__all__ = ["MemoryApprovalRepo"]

_DECISION = ("status", "decided_at", "decided_by", "comment")


class MemoryApprovalRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.approvals

    async def add(self, approval: Approval) -> Approval:
        existing = await self.for_call(approval.run_id, approval.call_id)
        if existing is not None:
            return existing
        self._tx.put(self._table, approval.id, self._tx.freeze(rows.APPROVALS, approval))
        return approval

    async def get(self, approval_id: str) -> Approval:
        row = self._tx.mine(self._table.get(approval_id))
        if row is None:
            raise NotFound("approval", approval_id)
        return thaw(rows.APPROVALS, row)

    async def for_call(self, run_id: str, call_id: str) -> Approval | None:
        found = self._tx.scan(
            self._table, lambda r: r["run_id"] == run_id and r["call_id"] == call_id
        )
        return thaw(rows.APPROVALS, found[0]) if found else None

    async def list(
        self, *, status: ApprovalStatus | None = None, run_id: str | None = None, limit: int = 100
    ) -> builtins.list[Approval]:
        found = self._tx.scan(
            self._table,
            lambda r: status is None or r["status"] == status.value,
            lambda r: run_id is None or r["run_id"] == run_id,
        )
        found.sort(key=lambda r: (r["requested_at"], r["id"]), reverse=True)
        return thaw_all(rows.APPROVALS, found[: max(limit, 0)])

    async def decide(self, approval: Approval) -> bool:
        row = self._tx.mine(self._table.get(approval.id))
        if row is None:
            raise NotFound("approval", approval.id)
        if row["status"] != ApprovalStatus.PENDING.value:
            return False
        encoded = self._tx.freeze(rows.APPROVALS, approval)
        self._tx.change(self._table, approval.id, **{k: encoded[k] for k in _DECISION})
        return True

    async def overdue(self, now: datetime, *, limit: int = 100) -> builtins.list[Approval]:
        moment = as_utc(now)
        found = self._tx.scan(
            self._table,
            lambda r: r["status"] == ApprovalStatus.PENDING.value and r["deadline"] <= moment,
        )
        found.sort(key=lambda r: (r["deadline"], r["id"]))
        return thaw_all(rows.APPROVALS, found[: max(limit, 0)])

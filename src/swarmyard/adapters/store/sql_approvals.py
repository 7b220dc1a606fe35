"""The SQL approvals repository (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from swarmyard.domain import Approval, ApprovalStatus, NotFound

from . import rows
from .sql_base import SqlTx
from .tables import approvals

__all__ = ["SqlApprovalRepo"]

_C = approvals.c
_DECISION = ("status", "decided_at", "decided_by", "comment")


class SqlApprovalRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, approval: Approval) -> Approval:
        row = rows.owned_row(rows.APPROVALS, approval, self._tx.workspace_id)
        if await self._tx.insert_new(approvals, row):
            return approval
        existing = await self.for_call(approval.run_id, approval.call_id)
        if existing is None:  # the id collided, not the call: a caller bug
            raise ValueError(f"approval id {approval.id!r} is taken")
        return existing

    async def get(self, approval_id: str) -> Approval:
        found = await self._fetch(_C.id == approval_id)
        if not found:
            raise NotFound("approval", approval_id)
        return found[0]

    async def for_call(self, run_id: str, call_id: str) -> Approval | None:
        found = await self._fetch(_C.run_id == run_id, _C.call_id == call_id)
        return found[0] if found else None

    async def list(
        self, *, status: ApprovalStatus | None = None, run_id: str | None = None, limit: int = 100
    ) -> builtins.list[Approval]:
        where = []
        if status is not None:
            where.append(_C.status == status.value)
        if run_id is not None:
            where.append(_C.run_id == run_id)
        return await self._fetch(
            *where, order=(_C.requested_at.desc(), _C.id.desc()), limit=max(limit, 0)
        )

    async def decide(self, approval: Approval) -> bool:
        encoded = rows.APPROVALS.encode(approval)
        statement = (
            update(approvals)
            .where(
                self._tx.scoped(approvals),
                _C.id == approval.id,
                _C.status == ApprovalStatus.PENDING.value,
            )
            .values({k: encoded[k] for k in _DECISION})
        )
        if (await self._tx.execute(statement)).rowcount:
            return True
        await self.get(approval.id)  # NotFound when there is none
        return False

    async def overdue(self, now: datetime, *, limit: int = 100) -> builtins.list[Approval]:
        return await self._fetch(
            _C.status == ApprovalStatus.PENDING.value,
            _C.deadline <= now,
            order=(_C.deadline, _C.id),
            limit=max(limit, 0),
        )

    async def _fetch(
        self, *where: Any, order: Sequence[Any] = (), limit: int | None = None
    ) -> builtins.list[Approval]:
        query = select(approvals).where(self._tx.scoped(approvals), *where).order_by(*order)
        if limit is not None:
            query = query.limit(limit)
        return [rows.APPROVALS.decode(r) for r in (await self._tx.execute(query)).mappings()]

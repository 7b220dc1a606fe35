"""In-memory repositories of memberships, API keys and the audit trail
(the counterparts of `sql_members.py`, with the same answers)."""

from __future__ import annotations

from collections.abc import Callable

from swarmyard.domain import ApiKey, AuditEntry, Conflict, Membership, NotFound
from swarmyard.ports import AuditFilter, Page

from . import rows
from .memory_base import MemoryTx, thaw, thaw_all
from .rows import Row, as_utc

__all__ = ["MemoryApiKeyRepo", "MemoryAuditRepo", "MemoryMembershipRepo"]

_FIRST_PAGE = Page()
_ALL_ENTRIES = AuditFilter()


class MemoryMembershipRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.members

    async def add(self, membership: Membership) -> None:
        row = self._tx.freeze(rows.MEMBERSHIPS, membership)
        if membership.user_id not in self._tx.state.users:
            raise NotFound("user", membership.user_id)
        key = (self._tx.workspace_id, membership.user_id)
        if key in self._table:
            raise Conflict(
                f"user {membership.user_id!r} is already a member of this workspace",
                details={"user_id": membership.user_id},
            )
        self._tx.put(self._table, key, row)

    async def get(self, user_id: str) -> Membership:
        return thaw(rows.MEMBERSHIPS, self._row(user_id))

    async def list(self) -> list[Membership]:
        found = self._tx.scan(self._table)
        found.sort(key=lambda r: (r["created_at"], r["user_id"]))
        return thaw_all(rows.MEMBERSHIPS, found)

    async def update(self, membership: Membership) -> None:
        self._row(membership.user_id)
        fixed = ("workspace_id", "user_id", "created_at")
        row = rows.MEMBERSHIPS.encode(membership)
        key = (self._tx.workspace_id, membership.user_id)
        self._tx.change(self._table, key, **{k: v for k, v in row.items() if k not in fixed})

    async def delete(self, user_id: str) -> None:
        self._row(user_id)
        self._tx.remove(self._table, (self._tx.workspace_id, user_id))

    def _row(self, user_id: str) -> Row:
        row = self._tx.mine(self._table.get((self._tx.workspace_id, user_id)))
        if row is None:
            raise NotFound("membership", user_id)
        return row


class MemoryApiKeyRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.api_keys

    async def add(self, key: ApiKey) -> None:
        row = self._tx.freeze(rows.API_KEYS, key)
        if key.id in self._table:
            raise Conflict(f"API key {key.id!r} already exists")
        self._tx.put(self._table, key.id, row)

    async def get(self, key_id: str) -> ApiKey:
        return thaw(rows.API_KEYS, self._row(key_id))

    async def list(self) -> list[ApiKey]:
        found = self._tx.scan(self._table)
        found.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return thaw_all(rows.API_KEYS, found)

    async def update(self, key: ApiKey) -> None:
        self._row(key.id)
        fixed = ("id", "workspace_id", "created_at")
        row = rows.API_KEYS.encode(key)
        self._tx.change(self._table, key.id, **{k: v for k, v in row.items() if k not in fixed})

    def _row(self, key_id: str) -> Row:
        row = self._tx.mine(self._table.get(key_id))
        if row is None:
            raise NotFound("api_key", key_id)
        return row


class MemoryAuditRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.audit

    async def add(self, entry: AuditEntry) -> None:
        row = self._tx.freeze(rows.AUDIT, entry)
        if entry.id in self._table:
            raise Conflict(f"audit entry {entry.id!r} already exists")
        self._tx.put(self._table, entry.id, row)

    async def list(
        self, flt: AuditFilter = _ALL_ENTRIES, page: Page = _FIRST_PAGE
    ) -> list[AuditEntry]:
        found = self._tx.scan(self._table, *_conditions(flt))
        return thaw_all(rows.AUDIT, self._tx.newest_first(self._table, found, page, time="at"))


def _conditions(flt: AuditFilter) -> list[Callable[[Row], bool]]:
    where: list[Callable[[Row], bool]] = []
    actor, action = flt.actor, flt.action
    if actor is not None:
        where.append(lambda r: r["actor"] == actor)
    if action is not None and action.endswith("."):
        where.append(lambda r: r["action"].startswith(action))
    elif action is not None:
        where.append(lambda r: r["action"] == action)
    if flt.since is not None:
        since = as_utc(flt.since)
        where.append(lambda r: r["at"] >= since)
    return where

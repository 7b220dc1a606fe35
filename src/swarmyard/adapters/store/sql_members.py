"""SQL repositories of who may act in a workspace, and what they did:
memberships, API keys and the audit trail.

They are scoped like every repository of a unit of work, even though the
users behind memberships are not: adding a member looks the user up in
the shared `users` table first, so a missing user is a plain `NotFound`
that leaves the unit of work usable.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import delete, func, select, update

from swarmyard.domain import ApiKey, AuditEntry, Conflict, Membership, NotFound
from swarmyard.ports import AuditFilter, Page

from . import rows
from .sql_base import SqlTx, newest_first
from .tables import api_keys, audit, memberships, users

__all__ = ["SqlApiKeyRepo", "SqlAuditRepo", "SqlMembershipRepo"]

_FIRST_PAGE = Page()
_ALL_ENTRIES = AuditFilter()


class SqlMembershipRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, membership: Membership) -> None:
        row = rows.owned_row(rows.MEMBERSHIPS, membership, self._tx.workspace_id)
        if not await self._tx.found(select(users.c.id).where(users.c.id == membership.user_id)):
            raise NotFound("user", membership.user_id)
        if not await self._tx.insert_new(memberships, row):
            raise Conflict(
                f"user {membership.user_id!r} is already a member of this workspace",
                details={"user_id": membership.user_id},
            )

    async def get(self, user_id: str) -> Membership:
        found = await self._fetch(memberships.c.user_id == user_id)
        if not found:
            raise NotFound("membership", user_id)
        return found[0]

    async def list(self) -> list[Membership]:
        return await self._fetch()

    async def update(self, membership: Membership) -> None:
        fixed = ("workspace_id", "user_id", "created_at")
        values = {k: v for k, v in rows.MEMBERSHIPS.encode(membership).items() if k not in fixed}
        statement = update(memberships).where(*self._key(membership.user_id)).values(values)
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("membership", membership.user_id)

    async def delete(self, user_id: str) -> None:
        statement = delete(memberships).where(*self._key(user_id))
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("membership", user_id)

    def _key(self, user_id: str) -> builtins.list[Any]:
        return [self._tx.scoped(memberships), memberships.c.user_id == user_id]

    async def _fetch(self, *where: Any) -> builtins.list[Membership]:
        query = (
            select(memberships)
            .where(self._tx.scoped(memberships), *where)
            .order_by(memberships.c.created_at, memberships.c.user_id)
        )
        return [rows.MEMBERSHIPS.decode(r) for r in (await self._tx.execute(query)).mappings()]


class SqlApiKeyRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, key: ApiKey) -> None:
        row = rows.owned_row(rows.API_KEYS, key, self._tx.workspace_id)
        if not await self._tx.insert_new(api_keys, row):
            raise Conflict(f"API key {key.id!r} already exists")

    async def get(self, key_id: str) -> ApiKey:
        query = select(api_keys).where(self._tx.scoped(api_keys), api_keys.c.id == key_id)
        row = (await self._tx.execute(query)).mappings().first()
        if row is None:
            raise NotFound("api_key", key_id)
        return rows.API_KEYS.decode(row)

    async def list(self) -> list[ApiKey]:
        c = api_keys.c
        query = (
            select(api_keys)
            .where(self._tx.scoped(api_keys))
            .order_by(c.created_at.desc(), c.id.desc())
        )
        return [rows.API_KEYS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def update(self, key: ApiKey) -> None:
        fixed = ("id", "workspace_id", "created_at")
        values = {k: v for k, v in rows.API_KEYS.encode(key).items() if k not in fixed}
        statement = (
            update(api_keys)
            .where(self._tx.scoped(api_keys), api_keys.c.id == key.id)
            .values(values)
        )
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("api_key", key.id)


class SqlAuditRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, entry: AuditEntry) -> None:
        row = rows.owned_row(rows.AUDIT, entry, self._tx.workspace_id)
        if not await self._tx.insert_new(audit, row):
            raise Conflict(f"audit entry {entry.id!r} already exists")

    async def list(
        self, flt: AuditFilter = _ALL_ENTRIES, page: Page = _FIRST_PAGE
    ) -> list[AuditEntry]:
        scope = self._tx.scoped(audit)
        keyset, order = newest_first(audit, page, scope, time="at")
        query = (
            select(audit)
            .where(scope, *_conditions(flt), *keyset)
            .order_by(*order)
            .limit(page.limit)
        )
        return [rows.AUDIT.decode(r) for r in (await self._tx.execute(query)).mappings()]


def _conditions(flt: AuditFilter) -> list[Any]:
    c = audit.c
    where: list[Any] = []
    if flt.actor is not None:
        where.append(c.actor == flt.actor)
    if flt.action is not None and flt.action.endswith("."):
        # Not LIKE: SQLite's LIKE ignores case and both treat "_" as a
        # wildcard, while a prefix must match exactly as in the memory store.
        where.append(func.substr(c.action, 1, len(flt.action)) == flt.action)
    elif flt.action is not None:
        where.append(c.action == flt.action)
    if flt.since is not None:
        where.append(c.at >= flt.since)
    return where

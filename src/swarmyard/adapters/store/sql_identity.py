"""The SQL identity unit of work: users, refresh tokens, and the few
cross-workspace reads that checking a credential needs.

A credential is checked before the caller's workspace is known, so this
transaction is not bound to one. It still runs under the store's write
gate on SQLite, like a unit of work: it writes (rotation, last use), and
two writers in one process must queue rather than fight for the file lock.

Reading a refresh token locks its row on PostgreSQL (``FOR UPDATE``):
rotation reads the token, checks it is unspent and marks it spent, and two
refreshes presenting the same token must run one after the other so the
second sees it spent. SQLite needs no lock: its transactions already hold
the database's only write lock from their first statement.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from swarmyard.domain import ApiKey, Conflict, Membership, NotFound, RefreshToken, User
from swarmyard.ports import Page, RefreshTokenRepo, UserRepo

from . import rows
from .sql_base import SqlConn, newest_first
from .tables import api_keys, memberships, refresh_tokens, users

__all__ = ["SqlIdentityUnitOfWork", "SqlRefreshTokenRepo", "SqlUserRepo"]

_FIRST_PAGE = Page()


class SqlUserRepo:
    def __init__(self, tx: SqlConn) -> None:
        self._tx = tx

    async def add(self, user: User) -> None:
        row = rows.USERS.encode(user)
        if not await self._tx.insert_new(users, row):
            # Either key collided; only the failure pays for telling which.
            if await self.by_email(row["email"]) is not None:
                raise _email_taken(row["email"])
            raise Conflict(f"user {user.id!r} already exists")

    async def get(self, user_id: str) -> User:
        found = await self._fetch(users.c.id == user_id)
        if not found:
            raise NotFound("user", user_id)
        return found[0]

    async def by_email(self, email: str) -> User | None:
        found = await self._fetch(users.c.email == email.lower())
        return found[0] if found else None

    async def list(self, page: Page = _FIRST_PAGE) -> list[User]:
        keyset, order = newest_first(users, page, None)
        query = select(users).where(*keyset).order_by(*order).limit(page.limit)
        return [rows.USERS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def update(self, user: User) -> None:
        values = {k: v for k, v in rows.USERS.encode(user).items() if k not in ("id", "created_at")}
        # Checked first so that a taken address never reaches the unique
        # constraint, whose violation would abort a PostgreSQL transaction.
        taken = select(users.c.id).where(users.c.email == values["email"], users.c.id != user.id)
        if await self._tx.found(taken):
            raise _email_taken(values["email"])
        statement = update(users).where(users.c.id == user.id).values(values)
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("user", user.id)

    async def _fetch(self, *where: Any) -> builtins.list[User]:
        query = select(users).where(*where)
        return [rows.USERS.decode(r) for r in (await self._tx.execute(query)).mappings()]


def _email_taken(email: str) -> Conflict:
    return Conflict(f"e-mail address {email!r} is already taken", details={"email": email})


class SqlRefreshTokenRepo:
    def __init__(self, tx: SqlConn) -> None:
        self._tx = tx

    async def add(self, token: RefreshToken) -> None:
        row = rows.REFRESH_TOKENS.encode(token)
        if not await self._tx.found(select(users.c.id).where(users.c.id == token.user_id)):
            raise NotFound("user", token.user_id)
        inserted = await self._tx.insert_new(refresh_tokens, row, parent=("user", token.user_id))
        if not inserted:
            raise Conflict(f"refresh token {token.id!r} already exists")

    async def get(self, token_id: str) -> RefreshToken | None:
        # FOR UPDATE: see the module docstring (SQLite renders nothing for it).
        query = select(refresh_tokens).where(refresh_tokens.c.id == token_id).with_for_update()
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else rows.REFRESH_TOKENS.decode(row)

    async def update(self, token: RefreshToken) -> None:
        fixed = ("id", "created_at")
        values = {k: v for k, v in rows.REFRESH_TOKENS.encode(token).items() if k not in fixed}
        statement = update(refresh_tokens).where(refresh_tokens.c.id == token.id).values(values)
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("refresh_token", token.id)

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        c = refresh_tokens.c
        statement = (
            update(refresh_tokens)
            .where(c.family_id == family_id, c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return (await self._tx.execute(statement)).rowcount


class SqlIdentityUnitOfWork:
    """One transaction over identities. Leaving without `commit()` rolls back.

    Errors behave as in `SqlUnitOfWork`: a `Conflict` or `NotFound` wrote
    nothing and leaves it usable.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._tx = SqlConn(conn)
        self.users: UserRepo = SqlUserRepo(self._tx)
        self.refresh_tokens: RefreshTokenRepo = SqlRefreshTokenRepo(self._tx)

    async def api_key(self, key_id: str) -> ApiKey | None:
        query = select(api_keys).where(api_keys.c.id == key_id)
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else rows.API_KEYS.decode(row)

    async def touch_api_key(self, key_id: str, at: datetime) -> None:
        statement = update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at)
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("api_key", key_id)

    async def memberships_of(self, user_id: str) -> list[Membership]:
        c = memberships.c
        query = (
            select(memberships).where(c.user_id == user_id).order_by(c.created_at, c.workspace_id)
        )
        return [rows.MEMBERSHIPS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def commit(self) -> None:
        await self._tx.commit()

    async def rollback(self) -> None:
        await self._tx.rollback()

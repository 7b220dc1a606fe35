"""The in-memory identity unit of work: users, refresh tokens and the
cross-workspace reads of credential checks (the counterpart of
`sql_identity.py`, with the same answers).

It journals its writes like a unit of work but is bound to no workspace,
so it writes through `MemoryJournal` directly and checks the one foreign
key it has (a refresh token's user) itself.
"""

from __future__ import annotations

from datetime import datetime

from swarmyard.domain import ApiKey, Conflict, Membership, NotFound, RefreshToken, User
from swarmyard.ports import Page, RefreshTokenRepo, UserRepo

from . import rows
from .memory_base import MemoryJournal, MemoryState, freeze, newest_first, thaw, thaw_all
from .rows import Row, as_utc

__all__ = ["MemoryIdentityUnitOfWork", "MemoryRefreshTokenRepo", "MemoryUserRepo"]

_FIRST_PAGE = Page()


class MemoryUserRepo:
    def __init__(self, tx: MemoryJournal) -> None:
        self._tx = tx
        self._table = tx.state.users

    async def add(self, user: User) -> None:
        row = freeze(rows.USERS, rows.USERS.encode(user))
        if self._holder(row["email"]) is not None:
            raise _email_taken(row["email"])
        if user.id in self._table:
            raise Conflict(f"user {user.id!r} already exists")
        self._tx.write(self._table, user.id, row)

    async def get(self, user_id: str) -> User:
        return thaw(rows.USERS, self._row(user_id))

    async def by_email(self, email: str) -> User | None:
        row = self._holder(email.lower())
        return None if row is None else thaw(rows.USERS, row)

    async def list(self, page: Page = _FIRST_PAGE) -> list[User]:
        self._tx.check()
        found = newest_first(list(self._table.values()), page, self._table.get)
        return thaw_all(rows.USERS, found)

    async def update(self, user: User) -> None:
        stored = self._row(user.id)
        row = freeze(rows.USERS, rows.USERS.encode(user))
        holder = self._holder(row["email"])
        if holder is not None and holder["id"] != user.id:
            raise _email_taken(row["email"])
        self._tx.write(self._table, user.id, {**row, "created_at": stored["created_at"]})

    def _row(self, user_id: str) -> Row:
        self._tx.check()
        row = self._table.get(user_id)
        if row is None:
            raise NotFound("user", user_id)
        return row

    def _holder(self, email: str) -> Row | None:
        self._tx.check()
        return next((r for r in self._table.values() if r["email"] == email), None)


def _email_taken(email: str) -> Conflict:
    return Conflict(f"e-mail address {email!r} is already taken", details={"email": email})


class MemoryRefreshTokenRepo:
    def __init__(self, tx: MemoryJournal) -> None:
        self._tx = tx
        self._table = tx.state.refresh_tokens

    async def add(self, token: RefreshToken) -> None:
        row = freeze(rows.REFRESH_TOKENS, rows.REFRESH_TOKENS.encode(token))
        if token.user_id not in self._tx.state.users:
            raise NotFound("user", token.user_id)
        if token.id in self._table:
            raise Conflict(f"refresh token {token.id!r} already exists")
        self._tx.write(self._table, token.id, row)

    async def get(self, token_id: str) -> RefreshToken | None:
        self._tx.check()
        row = self._table.get(token_id)
        return None if row is None else thaw(rows.REFRESH_TOKENS, row)

    async def update(self, token: RefreshToken) -> None:
        self._tx.check()
        stored = self._table.get(token.id)
        if stored is None:
            raise NotFound("refresh_token", token.id)
        row = freeze(rows.REFRESH_TOKENS, rows.REFRESH_TOKENS.encode(token))
        self._tx.write(self._table, token.id, {**row, "created_at": stored["created_at"]})

    async def revoke_family(self, family_id: str, at: datetime) -> int:
        self._tx.check()
        revoked_at = as_utc(at)
        spent = [
            key
            for key, r in self._table.items()
            if r["family_id"] == family_id and r["revoked_at"] is None
        ]
        for key in spent:
            self._tx.write(self._table, key, {**self._table[key], "revoked_at": revoked_at})
        return len(spent)


class MemoryIdentityUnitOfWork:
    """One transaction over identities. Leaving without `commit()` rolls back.

    Errors behave as in `SqlIdentityUnitOfWork`: a `Conflict` or `NotFound`
    wrote nothing and leaves it usable.
    """

    def __init__(self, state: MemoryState) -> None:
        self.tx = MemoryJournal(state)
        self.users: UserRepo = MemoryUserRepo(self.tx)
        self.refresh_tokens: RefreshTokenRepo = MemoryRefreshTokenRepo(self.tx)

    async def api_key(self, key_id: str) -> ApiKey | None:
        self.tx.check()
        row = self.tx.state.api_keys.get(key_id)
        return None if row is None else thaw(rows.API_KEYS, row)

    async def touch_api_key(self, key_id: str, at: datetime) -> None:
        self.tx.check()
        table = self.tx.state.api_keys
        if key_id not in table:
            raise NotFound("api_key", key_id)
        self.tx.write(table, key_id, {**table[key_id], "last_used_at": as_utc(at)})

    async def memberships_of(self, user_id: str) -> list[Membership]:
        self.tx.check()
        found = [r for r in self.tx.state.members.values() if r["user_id"] == user_id]
        found.sort(key=lambda r: (r["created_at"], r["workspace_id"]))
        return thaw_all(rows.MEMBERSHIPS, found)

    async def commit(self) -> None:
        self.tx.commit()

    async def rollback(self) -> None:
        self.tx.rollback()

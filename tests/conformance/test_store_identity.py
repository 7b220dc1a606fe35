"""Conformance suite of the Store port's identity parts: memory, SQLite and
PostgreSQL pass it unchanged.

Users and refresh tokens live above workspaces and are reached through
`Store.identity()`; memberships, API keys and the audit trail are scoped
like every other repository of a unit of work. Every test starts with two
workspaces, A and B, and two users, u1 and u2.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from swarmyard.domain import (
    ApiKey,
    AuditEntry,
    Conflict,
    Membership,
    NotFound,
    RefreshToken,
    Role,
    User,
    Workspace,
)
from swarmyard.ports import AuditFilter, IdentityUnitOfWork, Page, Store, UnitOfWork

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def user(user_id: str, email: str, minute: float = 0, **fields: Any) -> User:
    return User(user_id, email, f"User {user_id}", "argon2id$hash", at(minute), **fields)


def key(key_id: str, ws: str = A, minute: float = 0, **fields: Any) -> ApiKey:
    return ApiKey(key_id, ws, f"Key {key_id}", Role.MEMBER, "ab" * 32, at(minute), **fields)


def token(token_id: str, family: str = "f1", user_id: str = "u1", **fields: Any) -> RefreshToken:
    fields.setdefault("expires_at", at(60 * 24 * 7))
    return RefreshToken(token_id, user_id, family, "cd" * 32, T0, **fields)


def entry(entry_id: str, minute: float, ws: str = A, **fields: Any) -> AuditEntry:
    fields.setdefault("actor", "user:u1")
    fields.setdefault("action", "task.create")
    fields.setdefault("resource", f"task:{entry_id}")
    fields.setdefault("result", "ok")
    return AuditEntry(id=entry_id, workspace_id=ws, at=at(minute), **fields)


@asynccontextmanager
async def committed(store: Store, ws: str = A) -> AsyncIterator[UnitOfWork]:
    async with store.unit_of_work(ws) as uow:
        yield uow
        await uow.commit()


@asynccontextmanager
async def identity(store: Store) -> AsyncIterator[IdentityUnitOfWork]:
    async with store.identity() as idn:
        yield idn
        await idn.commit()


@pytest.fixture
async def st(store: Store) -> Store:
    await store.add_workspace(Workspace(A, "Alpha", T0))
    await store.add_workspace(Workspace(B, "Beta", at(1)))
    async with identity(store) as idn:
        await idn.users.add(user("u1", "Ada@Example.com"))
        await idn.users.add(user("u2", "bob@example.com", 1))
    return store


# ------------------------------------------------------------------ users


async def test_users_round_trip_with_lower_case_email(st: Store) -> None:
    async with st.identity() as idn:
        got = await idn.users.get("u1")
        assert got == user("u1", "ada@example.com")
        assert got.created_at.tzinfo is UTC
        assert await idn.users.by_email("ADA@example.COM") == got
        assert await idn.users.by_email("nobody@example.com") is None
        with pytest.raises(NotFound) as info:
            await idn.users.get("ghost")
        assert info.value.kind == "user"


async def test_a_taken_email_is_a_conflict_in_any_case(st: Store) -> None:
    async with identity(st) as idn:
        with pytest.raises(Conflict, match="taken"):
            await idn.users.add(user("u3", "ada@EXAMPLE.com"))
        with pytest.raises(Conflict):
            await idn.users.add(user("u1", "someone@example.com"))
        # The refusals wrote nothing and left the unit of work usable.
        await idn.users.add(user("u3", "cy@example.com", 2))
        bob = await idn.users.get("u2")
        bob.email = "ADA@example.com"
        with pytest.raises(Conflict, match="taken"):
            await idn.users.update(bob)
    async with st.identity() as idn:
        assert (await idn.users.get("u2")).email == "bob@example.com"
        assert (await idn.users.get("u3")).name == "User u3"


async def test_one_of_many_concurrent_sign_ups_gets_the_address(st: Store) -> None:
    async def sign_up(n: int) -> bool:
        email = "CY@example.com" if n % 2 else "cy@example.com"
        async with identity(st) as idn:
            try:
                await idn.users.add(user(f"new{n}", email))
            except Conflict:
                return False
            return True

    assert sum(await asyncio.gather(*(sign_up(n) for n in range(4)))) == 1


async def test_users_update_and_list(st: Store) -> None:
    async with identity(st) as idn:
        bob = await idn.users.get("u2")
        bob.name, bob.disabled, bob.email = "Robert", True, "Robert@Example.com"
        await idn.users.update(bob)
        ada = await idn.users.get("u1")
        ada.email = "ADA@example.com"  # its own address in another case is no conflict
        await idn.users.update(ada)
        with pytest.raises(NotFound):
            await idn.users.update(user("ghost", "ghost@example.com"))
        await idn.users.add(user("u3", "cy@example.com", 2))
    async with st.identity() as idn:
        got = await idn.users.get("u2")
        assert (got.name, got.disabled, got.email) == ("Robert", True, "robert@example.com")
        assert await idn.users.by_email("robert@example.com") == got
        assert [u.id for u in await idn.users.list()] == ["u3", "u2", "u1"]
        assert [u.id for u in await idn.users.list(Page(limit=1, after="u3"))] == ["u2"]
        assert [u.id for u in await idn.users.list(Page(after="u2"))] == ["u1"]
        assert await idn.users.list(Page(after="ghost")) == []


async def test_identity_rolls_back_without_commit(st: Store) -> None:
    async with st.identity() as idn:
        await idn.users.add(user("u3", "cy@example.com"))
        assert (await idn.users.get("u3")).id == "u3"  # own writes are visible
    async with st.identity() as idn:
        await idn.users.add(user("u4", "dee@example.com"))
        await idn.rollback()
        await idn.users.add(user("u5", "eve@example.com"))
        await idn.commit()
    async with st.identity() as idn:
        assert await idn.users.by_email("cy@example.com") is None
        assert await idn.users.by_email("dee@example.com") is None
        assert (await idn.users.get("u5")).id == "u5"


# ------------------------------------------------------------------ memberships


async def test_memberships(st: Store) -> None:
    async with committed(st) as uow:
        await uow.members.add(Membership(A, "u1", Role.OWNER, T0))
        await uow.members.add(Membership(A, "u2", Role.VIEWER, at(1)))
        with pytest.raises(Conflict, match="already a member"):
            await uow.members.add(Membership(A, "u1", Role.ADMIN, at(2)))
        with pytest.raises(NotFound) as info:
            await uow.members.add(Membership(A, "ghost", Role.MEMBER, at(2)))
        assert (info.value.kind, info.value.ident) == ("user", "ghost")
        with pytest.raises(ValueError, match="workspace"):
            await uow.members.add(Membership(B, "u1", Role.MEMBER, T0))
        assert [m.user_id for m in await uow.members.list()] == ["u1", "u2"]  # still usable
    async with committed(st, B) as uow:
        await uow.members.add(Membership(B, "u1", Role.MEMBER, at(3)))
    async with committed(st) as uow:
        viewer = await uow.members.get("u2")
        assert viewer == Membership(A, "u2", Role.VIEWER, at(1))
        viewer.role = Role.ADMIN
        await uow.members.update(viewer)
        assert (await uow.members.get("u2")).role is Role.ADMIN
        await uow.members.delete("u2")
        with pytest.raises(NotFound) as info:
            await uow.members.get("u2")
        assert info.value.kind == "membership"
        with pytest.raises(NotFound):
            await uow.members.delete("u2")
        with pytest.raises(NotFound):
            await uow.members.update(viewer)
    async with st.identity() as idn:
        assert await idn.memberships_of("u1") == [
            Membership(A, "u1", Role.OWNER, T0),
            Membership(B, "u1", Role.MEMBER, at(3)),
        ]
        assert await idn.memberships_of("u2") == []
        assert await idn.memberships_of("ghost") == []


async def test_a_membership_of_a_missing_workspace_is_not_found(st: Store) -> None:
    async with st.unit_of_work("ghost") as uow:
        with pytest.raises(NotFound) as info:
            await uow.members.add(Membership("ghost", "u1", Role.OWNER, T0))
        assert info.value.kind == "workspace"


# ------------------------------------------------------------------ API keys


async def test_api_keys(st: Store) -> None:
    async with committed(st) as uow:
        await uow.api_keys.add(key("k1", created_by="u1", expires_at=at(60)))
        await uow.api_keys.add(key("k2", minute=1))
        with pytest.raises(Conflict):
            await uow.api_keys.add(key("k1", minute=5))
        with pytest.raises(ValueError, match="workspace"):
            await uow.api_keys.add(key("k9", B))
    async with committed(st, B) as uow:
        await uow.api_keys.add(key("k3", B, 2))
    async with committed(st) as uow:
        k1 = await uow.api_keys.get("k1")
        assert k1 == key("k1", created_by="u1", expires_at=at(60))
        assert k1.role is Role.MEMBER
        assert k1.expires_at is not None
        assert k1.expires_at.tzinfo is UTC
        k1.revoked_at, k1.name = at(10), "retired"
        await uow.api_keys.update(k1)
        with pytest.raises(NotFound):
            await uow.api_keys.update(key("k9"))
        listed = await uow.api_keys.list()
        assert [k.id for k in listed] == ["k2", "k1"]  # newest first, revoked ones included
        assert listed[1] == k1


async def test_identity_finds_api_keys_of_any_workspace_and_touches_them(st: Store) -> None:
    async with committed(st) as uow:
        await uow.api_keys.add(key("k1"))
    async with committed(st, B) as uow:
        await uow.api_keys.add(key("k3", B))
    async with identity(st) as idn:
        assert await idn.api_key("k1") == key("k1")
        found = await idn.api_key("k3")
        assert found is not None
        assert found.workspace_id == B
        assert await idn.api_key("ghost") is None
        await idn.touch_api_key("k3", at(5))
        with pytest.raises(NotFound):
            await idn.touch_api_key("ghost", at(5))
    async with st.unit_of_work(B) as uow:
        assert (await uow.api_keys.get("k3")).last_used_at == at(5)
    async with st.identity() as idn:
        await idn.touch_api_key("k1", at(6))  # never committed
    async with st.unit_of_work(A) as uow:
        assert (await uow.api_keys.get("k1")).last_used_at is None


# ------------------------------------------------------------------ refresh tokens


async def test_refresh_tokens(st: Store) -> None:
    async with identity(st) as idn:
        await idn.refresh_tokens.add(token("t1", workspace_id=A))
        await idn.refresh_tokens.add(token("t2"))
        await idn.refresh_tokens.add(token("t3", revoked_at=at(-1)))
        await idn.refresh_tokens.add(token("t4", "f2"))
        with pytest.raises(Conflict):
            await idn.refresh_tokens.add(token("t1"))
        with pytest.raises(NotFound) as info:
            await idn.refresh_tokens.add(token("t9", user_id="ghost"))
        assert (info.value.kind, info.value.ident) == ("user", "ghost")
    async with identity(st) as idn:
        t1 = await idn.refresh_tokens.get("t1")
        assert t1 == token("t1", workspace_id=A)
        assert await idn.refresh_tokens.get("ghost") is None
        assert t1 is not None
        t1.used_at = at(1)
        await idn.refresh_tokens.update(t1)
        with pytest.raises(NotFound):
            await idn.refresh_tokens.update(token("ghost"))
        assert await idn.refresh_tokens.revoke_family("f1", at(2)) == 2
        assert await idn.refresh_tokens.revoke_family("f1", at(3)) == 0
        assert await idn.refresh_tokens.revoke_family("nope", at(3)) == 0
    async with st.identity() as idn:
        got = {t: await idn.refresh_tokens.get(t) for t in ("t1", "t2", "t3", "t4")}
    revoked = {t: None if g is None else g.revoked_at for t, g in got.items()}
    assert revoked == {"t1": at(2), "t2": at(2), "t3": at(-1), "t4": None}
    assert got["t1"] is not None
    assert got["t1"].used_at == at(1)
    assert got["t2"] is not None
    assert got["t2"].workspace_id is None


async def test_a_refresh_token_is_spent_once_under_concurrency(st: Store) -> None:
    async with identity(st) as idn:
        await idn.refresh_tokens.add(token("t1"))

    async def spend(n: int) -> bool:
        async with st.identity() as idn:
            found = await idn.refresh_tokens.get("t1")
            assert found is not None
            if found.used_at is not None:
                return False
            await asyncio.sleep(0)  # give the others every chance to read it too
            found.used_at = at(n)
            await idn.refresh_tokens.update(found)
            await idn.commit()
            return True

    assert sum(await asyncio.gather(*(spend(n) for n in range(6)))) == 1


# ------------------------------------------------------------------ audit


async def test_audit_lists_newest_first_with_filters(st: Store) -> None:
    entries = [
        entry("e1", 0, details={"role": "owner", "nested": [1, {"a": None}]}, ip="10.0.0.1"),
        entry("e2", 1, actor="api_key:k1", action="task.update"),
        entry("e3", 2, action="taskboard.view"),
        entry("e4", 2, action="auth.sign_in", result="failed"),
        entry("e5", 3, action="Task.create"),
        entry("e6", 4, action="axb.c"),
    ]
    async with committed(st) as uow:
        for e in entries:
            await uow.audit.add(e)
        with pytest.raises(Conflict):
            await uow.audit.add(entry("e1", 9))
    async with committed(st, B) as uow:
        await uow.audit.add(entry("b1", 5, B))

    async def ids(flt: AuditFilter | None = None, page: Page | None = None) -> list[str]:
        async with st.unit_of_work(A) as uow:
            found = await uow.audit.list(flt or AuditFilter(), page or Page())
        return [e.id for e in found]

    assert await ids() == ["e6", "e5", "e4", "e3", "e2", "e1"]  # same time: higher id first
    assert await ids(AuditFilter(actor="api_key:k1")) == ["e2"]
    assert await ids(AuditFilter(action="task.create")) == ["e1"]
    assert await ids(AuditFilter(action="task.")) == ["e2", "e1"]  # a prefix, case-sensitive
    assert await ids(AuditFilter(action="task")) == []  # no dot: exact
    assert await ids(AuditFilter(action="a_b.")) == []  # "_" is no wildcard
    assert await ids(AuditFilter(since=at(2))) == ["e6", "e5", "e4", "e3"]  # inclusive
    assert await ids(AuditFilter(actor="user:u1", action="task.", since=at(0))) == ["e1"]
    assert await ids(page=Page(limit=2)) == ["e6", "e5"]
    assert await ids(page=Page(limit=2, after="e5")) == ["e4", "e3"]
    assert await ids(page=Page(limit=2, after="e3")) == ["e2", "e1"]
    assert await ids(AuditFilter(action="task."), Page(after="e3")) == ["e2", "e1"]
    assert await ids(page=Page(after="ghost")) == []
    assert await ids(page=Page(after="b1")) == []  # another workspace's cursor
    async with st.unit_of_work(A) as uow:
        assert (await uow.audit.list(page=Page(limit=1, after="e2")))[0] == entries[0]
    async with st.unit_of_work(B) as uow:
        assert [e.id for e in await uow.audit.list()] == ["b1"]


# ------------------------------------------------------------------ tenancy, turns


async def test_another_workspaces_members_and_keys_are_not_found(st: Store) -> None:
    async with committed(st) as uow:
        await uow.members.add(Membership(A, "u1", Role.OWNER, T0))
        await uow.api_keys.add(key("k1"))
    async with committed(st, B) as uow:
        denied: list[Callable[[], Awaitable[object]]] = [
            lambda: uow.members.get("u1"),
            lambda: uow.members.update(Membership(B, "u1", Role.VIEWER, T0)),
            lambda: uow.members.delete("u1"),
            lambda: uow.api_keys.get("k1"),
            lambda: uow.api_keys.update(key("k1", B, revoked_at=T0)),
        ]
        for call in denied:
            with pytest.raises(NotFound):
                await call()
        assert await uow.members.list() == []
        assert await uow.api_keys.list() == []
        assert await uow.audit.list() == []
        await uow.members.add(Membership(B, "u1", Role.VIEWER, T0))  # its own membership
    async with st.unit_of_work(A) as uow:
        assert (await uow.members.get("u1")).role is Role.OWNER
        assert (await uow.api_keys.get("k1")).revoked_at is None


async def test_identity_and_units_of_work_take_turns(st: Store) -> None:
    async with committed(st) as uow:
        await uow.api_keys.add(key("k1"))

    async def sign_in(n: int) -> None:
        for i in range(5):
            async with identity(st) as idn:
                found = await idn.api_key("k1")
                assert found is not None
                await idn.touch_api_key("k1", at(n * 10 + i))
            async with committed(st) as uow:
                await uow.audit.add(entry(f"e{n}-{i}", n * 10 + i, action="auth.sign_in"))

    await asyncio.gather(*(sign_in(n) for n in range(4)))
    async with st.unit_of_work(A) as uow:
        assert len(await uow.audit.list(AuditFilter(action="auth."))) == 20
        assert (await uow.api_keys.get("k1")).last_used_at is not None

"""Conformance suite of what the Store port does with a workspace as a whole:
its authorization rules, and deleting it. Memory, SQLite and PostgreSQL
pass it unchanged.

Deleting is checked through the port only: every test starts with two
workspaces, A and B, each holding one row of every kind, and compares what
can be read of each before and after. Re-adding A's rows under the same ids
afterwards proves they are gone, not merely hidden.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from swarmyard.domain import (
    Agent,
    AgentManifest,
    ApiKey,
    AuditEntry,
    Capability,
    EventType,
    Execution,
    LearningProfile,
    Membership,
    NotFound,
    Project,
    RefreshToken,
    Role,
    Run,
    RunEvent,
    Schedule,
    Task,
    User,
    Workspace,
)
from swarmyard.ports import IdempotentResponse, OutboxMessage, Store, UnitOfWork

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"
RULES = 'forbid (principal, action == Action::"task.delete", resource);'


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@asynccontextmanager
async def committed(store: Store, ws: str = A) -> AsyncIterator[UnitOfWork]:
    async with store.unit_of_work(ws) as uow:
        yield uow
        await uow.commit()


@pytest.fixture
async def st(store: Store) -> Store:
    await store.add_workspace(Workspace(A, "Alpha", T0))
    await store.add_workspace(Workspace(B, "Beta", at(1)))
    async with store.identity() as idn:
        await idn.users.add(User("u1", "ada@example.com", "Ada", "argon2id$hash", T0))
        await idn.refresh_tokens.add(RefreshToken("rt-none", "u1", "f0", "ab" * 32, T0, at(60)))
        await idn.commit()
    return store


# ------------------------------------------------------------------ rules


async def test_rules_are_empty_until_set_then_replaced_and_removed(st: Store) -> None:
    async with committed(st) as uow:
        assert await uow.rules.get() == ""
        await uow.rules.set(RULES, at=T0, by="user:u1")
        assert await uow.rules.get() == RULES  # own writes are visible
    async with st.unit_of_work(A) as uow:
        assert await uow.rules.get() == RULES
    replaced = 'forbid (principal, action, resource)\nwhen { context.ip == "10.0.0.1" };'
    async with committed(st) as uow:
        await uow.rules.set(replaced, at=at(1), by="api_key:k1")
    async with st.unit_of_work(A) as uow:
        assert await uow.rules.get() == replaced
    async with committed(st) as uow:
        await uow.rules.set("", at=at(2), by="user:u1")
    async with st.unit_of_work(A) as uow:
        assert await uow.rules.get() == ""
    async with committed(st) as uow:
        await uow.rules.set(RULES, at=at(3), by="user:u1")  # and set again after removal
    async with st.unit_of_work(A) as uow:
        assert await uow.rules.get() == RULES


async def test_rules_roll_back_without_commit(st: Store) -> None:
    async with committed(st) as uow:
        await uow.rules.set(RULES, at=T0, by="user:u1")
    async with st.unit_of_work(A) as uow:
        await uow.rules.set("", at=at(1), by="user:u1")
    async with st.unit_of_work(A) as uow:
        await uow.rules.set("forbid (principal, action, resource);", at=at(1), by="user:u1")
        await uow.rollback()
        assert await uow.rules.get() == RULES


async def test_rules_belong_to_their_workspace(st: Store) -> None:
    async with committed(st) as uow:
        await uow.rules.set(RULES, at=T0, by="user:u1")
    async with committed(st, B) as uow:
        assert await uow.rules.get() == ""
        await uow.rules.set("forbid (principal, action, resource);", at=T0, by="user:u1")
    async with st.unit_of_work(A) as uow:
        assert await uow.rules.get() == RULES
    async with committed(st, B) as uow:
        await uow.rules.set("", at=at(1), by="user:u1")
    async with st.unit_of_work(A) as uow:
        assert await uow.rules.get() == RULES


async def test_rules_of_a_missing_workspace(st: Store) -> None:
    async with st.unit_of_work("ghost") as uow:
        assert await uow.rules.get() == ""
        with pytest.raises(NotFound) as info:
            await uow.rules.set(RULES, at=T0, by="user:u1")
        assert (info.value.kind, info.value.ident) == ("workspace", "ghost")


# ------------------------------------------------------------------ deleting a workspace


async def fill(store: Store, ws: str) -> None:
    """One row of every kind the store keeps for a workspace (ids prefixed by it)."""
    async with committed(store, ws) as uow:
        await uow.projects.add(Project(f"{ws}:p1", ws, "P", T0))
        await uow.manifests.add(
            AgentManifest(
                id="custom",
                name="Custom",
                version="1.0.0",
                role="developer",
                capabilities=[Capability(id="build", name="Build", task_types=["feature"])],
                system_prompt="You build things.",
            )
        )
        await uow.agents.add(Agent(f"{ws}:a1", ws, "Agent", "custom", "1.0.0", "developer", 1, T0))
        await uow.tasks.add(
            Task(
                id=f"{ws}:t1",
                workspace_id=ws,
                title="T",
                type="feature",
                created_at=T0,
                origin_key="tick-1",
            )
        )
        await uow.runs.add(Run(f"{ws}:r1", ws, f"{ws}:t1", f"{ws}:a1", "developer", created_at=T0))
        claimed = await uow.runs.claim(f"{ws}:r1", owner="w", now=T0, lease_until=at(1))
        assert claimed is not None
        await uow.runs.save(claimed, checkpoint=b"history")
        await uow.events.append([RunEvent(f"{ws}:r1", ws, 1, EventType.STEP, T0, {"n": 1})])
        await uow.learning.add_execution(Execution(f"{ws}:a1", "feature", T0, True, 1.5, 10))
        await uow.learning.save_profile(LearningProfile(ws, f"{ws}:a1", "feature", 1, 1.0))
        await uow.schedules.add(
            Schedule(f"{ws}:s1", ws, "Nightly", "0 3 * * *", "UTC", {"title": "x"}, at(5), T0)
        )
        await uow.idempotency.put(IdempotentResponse("key-1", "sha256:1", 201, b"{}", T0))
        await uow.outbox.add(OutboxMessage(f"{ws}:m1", ws, f"swarmyard.{ws}.board", b"x", T0))
        await uow.members.add(Membership(ws, "u1", Role.OWNER, T0))
        await uow.api_keys.add(ApiKey(f"{ws}:k1", ws, "Key", Role.MEMBER, "cd" * 32, T0))
        await uow.audit.add(
            AuditEntry(f"{ws}:e1", ws, "user:u1", "task.create", "task:t1", "ok", T0)
        )
        await uow.rules.set(RULES, at=T0, by="user:u1")
    async with store.identity() as idn:
        await idn.refresh_tokens.add(
            RefreshToken(f"{ws}:rt", "u1", f"{ws}:f", "ef" * 32, T0, at(60), workspace_id=ws)
        )
        await idn.commit()


async def snapshot(store: Store, ws: str) -> dict[str, Any]:
    """Everything of `ws` the port can read back, by the ids `fill` uses."""
    async with store.unit_of_work(ws) as uow:
        seen: dict[str, Any] = {
            "projects": await uow.projects.list(),
            "manifests": await uow.manifests.list(),
            "agents": await uow.agents.list(),
            "tasks": await uow.tasks.list(),
            "by_origin": await uow.tasks.by_origin("tick-1"),
            "runs": await uow.runs.list(),
            "checkpoint": await uow.runs.checkpoint(f"{ws}:r1"),
            "events": await uow.events.list(f"{ws}:r1"),
            "executions": await uow.learning.executions(f"{ws}:a1"),
            "profiles": await uow.learning.profiles([f"{ws}:a1"]),
            "schedules": await uow.schedules.list(),
            "idempotency": await uow.idempotency.get("key-1"),
            "members": await uow.members.list(),
            "api_keys": await uow.api_keys.list(),
            "audit": await uow.audit.list(),
            "rules": await uow.rules.get(),
        }
    async with store.identity() as idn:
        seen["api_key"] = await idn.api_key(f"{ws}:k1")
        seen["memberships_of"] = [m for m in await idn.memberships_of("u1") if m.workspace_id == ws]
        seen["refresh_token"] = await idn.refresh_tokens.get(f"{ws}:rt")
    seen["outbox"] = [m for m in await store.outbox_pending() if m.workspace_id == ws]
    return seen


@pytest.fixture
async def full(st: Store) -> Store:
    await fill(st, A)
    await fill(st, B)
    return st


async def test_deleting_a_workspace_removes_all_of_it_and_nothing_else(full: Store) -> None:
    nothing = await snapshot(full, "never-existed")
    before_a, before_b = await snapshot(full, A), await snapshot(full, B)
    assert all(v for v in before_a.values()), "fill() must leave something of every kind"

    await full.delete_workspace(A)

    with pytest.raises(NotFound):
        await full.get_workspace(A)
    assert [w.id for w in await full.list_workspaces()] == [B]
    assert await snapshot(full, A) == nothing
    assert await snapshot(full, B) == before_b
    async with full.identity() as idn:  # users live above workspaces and stay
        assert (await idn.users.get("u1")).email == "ada@example.com"
        assert await idn.refresh_tokens.get("rt-none") is not None

    # The same ids go in again: the rows are gone, not merely out of sight.
    await full.add_workspace(Workspace(A, "Alpha again", at(9)))
    await fill(full, A)
    assert await snapshot(full, A) == before_a


async def test_deleting_an_unknown_workspace_is_not_found(full: Store) -> None:
    with pytest.raises(NotFound) as info:
        await full.delete_workspace("ghost")
    assert (info.value.kind, info.value.ident) == ("workspace", "ghost")
    await full.delete_workspace(A)
    before_b = await snapshot(full, B)
    with pytest.raises(NotFound) as info:
        await full.delete_workspace(A)
    assert (info.value.kind, info.value.ident) == ("workspace", A)
    assert await snapshot(full, B) == before_b
    assert [w.id for w in await full.list_workspaces()] == [B]


async def test_writes_racing_a_delete_do_not_outlive_it(st: Store) -> None:
    async def write(n: int) -> None:
        try:
            async with committed(st) as uow:
                await uow.tasks.add(
                    Task(id=f"t{n}", workspace_id=A, title="T", type="feature", created_at=T0)
                )
                await uow.rules.set(RULES, at=T0, by=f"user:{n}")
        except NotFound:
            pass  # came after the delete: the workspace is gone

    await asyncio.gather(
        *(write(n) for n in range(3)), st.delete_workspace(A), *(write(n) for n in range(3, 6))
    )
    await st.add_workspace(Workspace(A, "Alpha again", at(9)))
    async with st.unit_of_work(A) as uow:
        assert await uow.tasks.list() == []
        assert await uow.rules.get() == ""

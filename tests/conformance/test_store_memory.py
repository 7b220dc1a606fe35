"""Conformance of the memory repository: memory, SQLite and PostgreSQL alike.

Items are found by any word of the query (text or tags, any case), best
matches first and the newest first among equals; an agent sees its own
items and the workspace's shared ones; an expired item is never answered;
and another workspace sees none of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.domain import Conflict, MemoryItem, MemoryKind, NotFound, Workspace
from swarmyard.ports import MemoryQuery, Store, UnitOfWork

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
async def st(store: Store) -> Store:
    await store.add_workspace(Workspace(A, "Alpha", T0))
    await store.add_workspace(Workspace(B, "Beta", T0))
    return store


@asynccontextmanager
async def committed(store: Store, ws: str = A) -> AsyncIterator[UnitOfWork]:
    async with store.unit_of_work(ws) as uow:
        yield uow
        await uow.commit()


def item(
    item_id: str,
    text: str,
    *,
    minutes: float = 0,
    agent: str | None = None,
    kind: MemoryKind = MemoryKind.FACT,
    tags: list[str] | None = None,
    run_id: str | None = None,
    expires: float | None = None,
    ws: str = A,
) -> MemoryItem:
    return MemoryItem(
        id=item_id,
        workspace_id=ws,
        kind=kind,
        text=text,
        created_at=at(minutes),
        agent_id=agent,
        tags=tags or [],
        run_id=run_id,
        task_id="t1" if run_id else None,
        source="role:developer",
        expires_at=None if expires is None else at(expires),
    )


async def ids(uow: UnitOfWork, now: float = 10, **query: object) -> list[str]:
    found = await uow.memory.search(MemoryQuery(**query), now=at(now))  # type: ignore[arg-type]
    return [i.id for i in found]


async def test_add_get_delete_and_tenancy(st: Store) -> None:
    first = item("m1", "The ledger is exported nightly", tags=["ops", "ledger"], run_id="r1")
    async with committed(st) as uow:
        await uow.memory.add(first)
        with pytest.raises(Conflict):
            await uow.memory.add(item("m1", "another text"))
    async with st.unit_of_work(A) as uow:
        assert await uow.memory.get("m1", now=at(1)) == first
    async with committed(st, B) as uow:
        with pytest.raises(NotFound):
            await uow.memory.get("m1", now=at(1))
        with pytest.raises(NotFound):
            await uow.memory.delete("m1")
        assert await ids(uow, text="ledger") == []
        assert await ids(uow) == []
    async with committed(st) as uow:
        assert await ids(uow, text="ledger") == ["m1"]
        await uow.memory.delete("m1")
        with pytest.raises(NotFound):
            await uow.memory.delete("m1")
    async with st.unit_of_work(A) as uow:
        assert await ids(uow, text="ledger") == []
        with pytest.raises(NotFound):
            await uow.memory.get("m1", now=at(1))


async def test_any_word_matches_best_first(st: Store) -> None:
    async with committed(st) as uow:
        await uow.memory.add(item("both", "We chose PostgreSQL for the ledger", minutes=1))
        await uow.memory.add(item("ledger", "The ledger is exported nightly", minutes=2))
        await uow.memory.add(
            item("twice", "PostgreSQL ledger notes: ledger vacuum, postgresql locks", minutes=3)
        )
        await uow.memory.add(item("other", "The board has eight columns", minutes=4))
        await uow.memory.add(item("tagged", "Nightly export runs", tags=["postgresql"], minutes=5))
    async with st.unit_of_work(A) as uow:
        found = await ids(uow, text="postgresql ledger")
        assert found[:2] == ["twice", "both"]
        assert set(found[2:]) == {"tagged", "ledger"}
        # Case does not matter; tags are searched like the text.
        assert await ids(uow, text="POSTGRESQL") == (await ids(uow, text="postgresql"))
        assert "tagged" in await ids(uow, text="PostgreSQL")
        # Stopwords match nothing on their own: "the" is in three texts.
        assert await ids(uow, text="the board") == ["other"]
        assert await ids(uow, text="kubernetes") == []
        # Punctuation is no search syntax.
        found = await ids(uow, text='ledger" OR * NEAR(')
        assert found[0] == "twice"
        assert set(found) == {"twice", "ledger", "both"}
        assert len(await ids(uow, text="postgresql ledger", limit=2)) == 2
        # No words at all: every item, newest first.
        assert await ids(uow) == ["tagged", "other", "twice", "ledger", "both"]
        assert await ids(uow, text="?!", limit=2) == ["tagged", "other"]


async def test_equal_matches_come_newest_first(st: Store) -> None:
    async with committed(st) as uow:
        for n in range(3):
            await uow.memory.add(item(f"m{n}", "Deploys go out on Tuesdays", minutes=n))
    async with st.unit_of_work(A) as uow:
        assert await ids(uow, text="deploys tuesdays") == ["m2", "m1", "m0"]


async def test_an_agent_sees_its_own_and_shared_items(st: Store) -> None:
    async with committed(st) as uow:
        await uow.memory.add(item("mine", "export format is csv", agent="a1", minutes=1))
        await uow.memory.add(item("theirs", "export format is parquet", agent="a2", minutes=2))
        await uow.memory.add(item("shared", "export decided", kind=MemoryKind.DECISION, minutes=3))
    async with st.unit_of_work(A) as uow:
        assert await ids(uow, text="export", agent_id="a1") == ["shared", "mine"]
        assert await ids(uow, agent_id="a2") == ["shared", "theirs"]
        assert await ids(uow, text="export") == ["shared", "theirs", "mine"]
        assert await ids(uow, text="export", kind=MemoryKind.DECISION) == ["shared"]
        assert await ids(uow, kind=MemoryKind.NOTE) == []


async def test_items_of_runs(st: Store) -> None:
    async with committed(st) as uow:
        await uow.memory.add(item("r1a", "first", run_id="r1", minutes=1))
        await uow.memory.add(item("r1b", "second", run_id="r1", minutes=2))
        await uow.memory.add(item("r2", "third", run_id="r2", minutes=3))
        await uow.memory.add(item("none", "fourth", minutes=4))
    async with st.unit_of_work(A) as uow:
        assert await ids(uow, run_ids=["r1"]) == ["r1b", "r1a"]
        assert await ids(uow, run_ids=["r1", "r2"]) == ["r2", "r1b", "r1a"]
        assert await ids(uow, run_ids=[]) == []


async def test_expired_items_are_never_answered(st: Store) -> None:
    async with committed(st) as uow:
        await uow.memory.add(item("soon", "cache warm-up takes a minute", expires=5))
        await uow.memory.add(item("later", "cache size is 2 GB", expires=60, minutes=1))
        await uow.memory.add(item("never", "cache lives in redis", minutes=2))
    async with committed(st, B) as uow:
        await uow.memory.add(item("b-soon", "cache in B", expires=5, ws=B))
    async with st.unit_of_work(A) as uow:
        assert set(await ids(uow, now=4, text="cache")) == {"soon", "later", "never"}
        assert await ids(uow, now=5, text="cache") == ["never", "later"]
        assert await ids(uow, now=5) == ["never", "later"]
        assert await ids(uow, now=61, text="cache") == ["never"]
        assert (await uow.memory.get("soon", now=at(4))).id == "soon"
        with pytest.raises(NotFound):
            await uow.memory.get("soon", now=at(5))
    async with committed(st) as uow:
        assert await uow.memory.delete_expired(at(61), limit=1) == 1
        assert await uow.memory.delete_expired(at(61)) == 1
        assert await uow.memory.delete_expired(at(61)) == 0
    async with st.unit_of_work(A) as uow:
        # Gone for good, and the full-text index went with the rows.
        with pytest.raises(NotFound):
            await uow.memory.get("soon", now=at(0))
        assert await ids(uow, now=0, text="cache") == ["never"]
    async with st.unit_of_work(B) as uow:
        assert await ids(uow, now=0, text="cache") == ["b-soon"]

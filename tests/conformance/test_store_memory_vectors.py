"""Conformance of memory vectors: memory, SQLite and PostgreSQL alike.

An item keeps at most one vector, with the model that made it, and loses it
when it goes (deleted or swept as expired). Nearest search ranks by cosine
over the vectors of one model and one length only, filters like text search
(agent view, kind, runs, expiry, workspace) and answers ties newest first.
"""

from __future__ import annotations

import pytest
from test_store_memory import A, B, at, committed
from test_store_memory import item as memory_item

from swarmyard.domain import MemoryItem, MemoryKind, NotFound
from swarmyard.ports import MemoryQuery, Store, UnitOfWork

M = "test-model"
Q = (1.0, 0.0, 0.0)


def item(item_id: str, **fields: object) -> MemoryItem:
    return memory_item(item_id, f"text of {item_id}", **fields)  # type: ignore[arg-type]


async def keep(uow: UnitOfWork, memory: MemoryItem, vector: tuple[float, ...]) -> None:
    await uow.memory.add(memory)
    await uow.memory.put_vector(memory.id, model=M, vector=vector)


async def nearest(
    uow: UnitOfWork,
    vector: tuple[float, ...] = Q,
    *,
    now: float = 10,
    model: str = M,
    min_similarity: float = 0.0,
    **query: object,
) -> list[str]:
    found = await uow.memory.nearest(
        MemoryQuery(**query),  # type: ignore[arg-type]
        model=model,
        vector=vector,
        now=at(now),
        min_similarity=min_similarity,
    )
    return [i.id for i in found]


async def test_most_similar_first_above_the_floor(st: Store) -> None:
    async with committed(st) as uow:
        await keep(uow, item("same", minutes=1), (2.0, 0.0, 0.0))  # stored at unit length
        await keep(uow, item("close", minutes=2), (1.0, 1.0, 0.0))
        await keep(uow, item("apart", minutes=3), (0.0, 1.0, 0.0))
        await keep(uow, item("opposite", minutes=4), (-1.0, 0.0, 0.0))
        await uow.memory.add(item("no-vector", minutes=5))
    async with st.unit_of_work(A) as uow:
        # Orthogonal and opposite vectors are no match at the default floor.
        assert await nearest(uow) == ["same", "close"]
        assert await nearest(uow, (3.0, 0.0, 0.0)) == ["same", "close"]  # length does not matter
        assert await nearest(uow, limit=1) == ["same"]
        assert await nearest(uow, min_similarity=0.8) == ["same"]
        assert await nearest(uow, (0.0, 1.0, 0.0)) == ["apart", "close"]
        assert await nearest(uow, min_similarity=-2.0) == ["same", "close", "apart", "opposite"]
        assert await nearest(uow, limit=0) == []


async def test_ties_come_newest_first(st: Store) -> None:
    async with committed(st) as uow:
        for n in range(3):
            await keep(uow, item(f"m{n}", minutes=n), (1.0, 1.0, 1.0))
    async with st.unit_of_work(A) as uow:
        assert await nearest(uow) == ["m2", "m1", "m0"]


async def test_only_vectors_of_the_model_and_length_are_compared(st: Store) -> None:
    async with committed(st) as uow:
        await keep(uow, item("ours"), (1.0, 0.0, 0.0))
        await uow.memory.add(item("other-model", minutes=1))
        await uow.memory.put_vector("other-model", model="another", vector=(1.0, 0.0, 0.0))
        await uow.memory.add(item("longer", minutes=2))
        await uow.memory.put_vector("longer", model=M, vector=(1.0, 0.0, 0.0, 0.0))
    async with st.unit_of_work(A) as uow:
        assert await nearest(uow) == ["ours"]
        assert await nearest(uow, model="another") == ["other-model"]
        assert await nearest(uow, (1.0, 0.0, 0.0, 0.0)) == ["longer"]
        assert await nearest(uow, model="unknown") == []


async def test_nearest_filters_like_text_search(st: Store) -> None:
    v = (1.0, 0.0, 0.0)
    async with committed(st) as uow:
        await keep(uow, item("mine", agent="a1", minutes=1), v)
        await keep(uow, item("theirs", agent="a2", minutes=2), v)
        await keep(uow, item("shared", kind=MemoryKind.DECISION, run_id="r1", minutes=3), v)
        await keep(uow, item("soon", expires=5, minutes=4), v)
    async with committed(st, B) as uow:
        await keep(uow, item("b", ws=B), v)
    async with st.unit_of_work(A) as uow:
        assert await nearest(uow, now=4) == ["soon", "shared", "theirs", "mine"]
        assert await nearest(uow, now=5) == ["shared", "theirs", "mine"]
        assert await nearest(uow, agent_id="a1") == ["shared", "mine"]
        assert await nearest(uow, kind=MemoryKind.DECISION) == ["shared"]
        assert await nearest(uow, run_ids=["r1"]) == ["shared"]
        assert await nearest(uow, run_ids=[]) == []
    async with st.unit_of_work(B) as uow:
        assert await nearest(uow) == ["b"]


async def test_a_vector_is_replaced_and_refused_without_its_item(st: Store) -> None:
    async with committed(st) as uow:
        await keep(uow, item("m1"), (0.0, 1.0, 0.0))
        await uow.memory.put_vector("m1", model=M, vector=(1.0, 0.0, 0.0))
        with pytest.raises(ValueError, match="zeros"):
            await uow.memory.put_vector("m1", model=M, vector=(0.0, 0.0, 0.0))
        with pytest.raises(NotFound):
            await uow.memory.put_vector("missing", model=M, vector=Q)
    async with committed(st, B) as uow:
        # Another workspace's item is missing too, and its vector stays as it was.
        with pytest.raises(NotFound):
            await uow.memory.put_vector("m1", model=M, vector=(0.0, 1.0, 0.0))
    async with st.unit_of_work(A) as uow:
        assert await nearest(uow) == ["m1"]
        assert await nearest(uow, (0.0, 1.0, 0.0)) == []
        assert await uow.memory.without_vector(M, now=at(1), limit=10) == []


async def test_the_vector_goes_with_its_item(st: Store) -> None:
    async with committed(st) as uow:
        await keep(uow, item("deleted"), Q)
        await keep(uow, item("expired", expires=5), Q)
    async with committed(st) as uow:
        await uow.memory.delete("deleted")
        assert await uow.memory.delete_expired(at(6)) == 1
    async with committed(st) as uow:
        assert await nearest(uow, min_similarity=-2.0) == []
        # The same ids again start without a vector.
        await uow.memory.add(item("deleted"))
        assert [i.id for i in await uow.memory.without_vector(M, now=at(6), limit=5)] == ["deleted"]


async def test_items_without_a_vector_of_the_model(st: Store) -> None:
    async with committed(st) as uow:
        await keep(uow, item("has", minutes=1), Q)
        await uow.memory.add(item("none", minutes=2))
        await uow.memory.add(item("other", minutes=3))
        await uow.memory.put_vector("other", model="another", vector=Q)
        await uow.memory.add(item("gone", minutes=4, expires=5))
    async with committed(st, B) as uow:
        await uow.memory.add(item("b", ws=B))

    async def missing(model: str, now: float = 10, limit: int = 10) -> list[str]:
        async with st.unit_of_work(A) as uow:
            found = await uow.memory.without_vector(model, now=at(now), limit=limit)
        return [i.id for i in found]

    assert await missing(M) == ["other", "none"]
    assert await missing(M, now=4) == ["gone", "other", "none"]
    assert await missing(M, limit=1) == ["other"]
    assert await missing("another") == ["none", "has"]

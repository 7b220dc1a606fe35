"""The in-memory repository of long-term memory (the counterpart of
`sql_memory_items.py`).

Full-text search here is plain token overlap: an item matches when it
holds any of the query's terms, and ranks by how many distinct terms it
holds, then by how often. The databases rank with bm25 and ts_rank; all
three agree on what matches (the terms come from `domain.memory`).

Vectors are rows of their own, keyed by item and removed with the item as
the SQL foreign key's ON DELETE CASCADE does; they are ranked by the same
brute-force code as in SQL (`vectors.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from swarmyard.domain import Conflict, MemoryItem, NotFound
from swarmyard.domain.memory import overlap_score, search_terms
from swarmyard.ports import MemoryQuery
from swarmyard.ports.memory import MAX_VECTOR_SCAN

from . import rows
from .memory_base import MemoryTx, thaw, thaw_all
from .rows import Row, as_utc
from .vectors import most_similar, vector_row

__all__ = ["MemoryMemoryRepo"]


class MemoryMemoryRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.memory_items
        self._vectors = tx.state.memory_vectors

    async def add(self, item: MemoryItem) -> None:
        self._tx.check()
        if item.id in self._table:  # ids are unique across workspaces, as in SQL
            raise Conflict(f"memory item {item.id!r} already exists")
        self._tx.put(self._table, item.id, self._tx.freeze(rows.MEMORY_ITEMS, item))

    async def get(self, item_id: str, *, now: datetime) -> MemoryItem:
        row = self._tx.mine(self._table.get(item_id))
        if row is None or not _live(as_utc(now))(row):
            raise NotFound("memory item", item_id)
        return thaw(rows.MEMORY_ITEMS, row)

    async def delete(self, item_id: str) -> None:
        if self._tx.mine(self._table.get(item_id)) is None:
            raise NotFound("memory item", item_id)
        self._remove(item_id)

    async def search(self, query: MemoryQuery, *, now: datetime) -> list[MemoryItem]:
        found = thaw_all(rows.MEMORY_ITEMS, self._tx.scan(self._table, *_where(query, now)))
        found.sort(key=lambda i: (i.created_at, i.id), reverse=True)
        terms = search_terms(query.text)
        if terms:
            scored = [(overlap_score(terms, item), item) for item in found]
            # sorted() is stable: equal scores keep the newest-first order.
            scored = sorted((s for s in scored if s[0][0] > 0), key=lambda s: s[0], reverse=True)
            found = [item for _, item in scored]
        return found[: max(query.limit, 0)]

    async def delete_expired(self, now: datetime, *, limit: int = 500) -> int:
        moment = as_utc(now)
        gone = self._tx.scan(
            self._table, lambda r: r["expires_at"] is not None and r["expires_at"] <= moment
        )
        gone.sort(key=lambda r: (r["expires_at"], r["id"]))
        for row in gone[: max(limit, 0)]:
            self._remove(row["id"])
        return min(len(gone), max(limit, 0))

    async def put_vector(self, item_id: str, *, model: str, vector: Sequence[float]) -> None:
        row = vector_row(item_id, self._tx.workspace_id, model, vector)
        if self._tx.mine(self._table.get(item_id)) is None:
            raise NotFound("memory item", item_id)
        self._tx.put(self._vectors, item_id, row)

    async def nearest(
        self,
        query: MemoryQuery,
        *,
        model: str,
        vector: Sequence[float],
        now: datetime,
        min_similarity: float = 0.0,
    ) -> list[MemoryItem]:
        def comparable(r: Row) -> bool:
            v = self._vectors.get(r["id"])
            return v is not None and v["model"] == model and v["dims"] == len(vector)

        found = self._tx.scan(self._table, *_where(query, now), comparable)
        found.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        by_id = {r["id"]: r for r in found[:MAX_VECTOR_SCAN]}
        candidates = [(i, self._vectors[i]["vector"]) for i in by_id]
        best = most_similar(vector, candidates, limit=query.limit, above=min_similarity)
        return [thaw(rows.MEMORY_ITEMS, by_id[i]) for i in best]

    async def without_vector(self, model: str, *, now: datetime, limit: int) -> list[MemoryItem]:
        def missing(r: Row) -> bool:
            v = self._vectors.get(r["id"])
            return v is None or v["model"] != model

        found = self._tx.scan(self._table, _live(as_utc(now)), missing)
        found.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return thaw_all(rows.MEMORY_ITEMS, found[: max(limit, 0)])

    def _remove(self, item_id: str) -> None:
        # The SQL foreign key's ON DELETE CASCADE: the vector goes with its item.
        if item_id in self._vectors:
            self._tx.remove(self._vectors, item_id)
        self._tx.remove(self._table, item_id)


def _live(moment: datetime) -> Callable[[Row], bool]:
    return lambda r: r["expires_at"] is None or r["expires_at"] > moment


def _where(query: MemoryQuery, now: datetime) -> list[Callable[[Row], bool]]:
    where = [_live(as_utc(now))]
    if query.agent_id is not None:
        where.append(lambda r: r["agent_id"] in (None, query.agent_id))
    if query.kind is not None:
        kind = query.kind.value
        where.append(lambda r: r["kind"] == kind)
    if query.run_ids is not None:
        runs = frozenset(query.run_ids)
        where.append(lambda r: r["run_id"] in runs)
    return where

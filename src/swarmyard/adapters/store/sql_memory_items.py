"""The SQL repository of long-term memory: full-text search on each database.

SQLite searches its FTS5 table `memory_items_fts` (external content over
`memory_items`, kept in step by triggers of the same revision, so every
write of a row updates the index in the same transaction) and ranks by
bm25. PostgreSQL matches `to_tsvector('simple', text || ' ' || tags)`
against an OR of the terms, which its GIN index answers, and ranks by
ts_rank. The 'simple' configuration neither stems nor drops words, like
FTS5's default tokenizer, so both find the same items. The terms come from
`domain.memory.search_terms` (letters and digits only), so no query can
smuggle search syntax in.

Vectors (`memory_vectors`, one per item, deleted with it by its foreign
key) are searched by brute force: the newest vectors of the scope and the
model are read, and `vectors.most_similar` ranks them in Python, the same
code as the memory store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal_column,
    null,
    or_,
    select,
    table,
)

from swarmyard.domain import Conflict, MemoryItem, NotFound
from swarmyard.domain.memory import search_terms
from swarmyard.ports import MemoryQuery
from swarmyard.ports.memory import MAX_VECTOR_SCAN

from . import rows
from .sql_base import SqlTx
from .tables import MEMORY_FTS, memory_items, memory_vectors
from .vectors import most_similar, vector_row

__all__ = ["SqlMemoryRepo", "postgres_document"]

_C = memory_items.c
_V = memory_vectors.c
_FTS = table(MEMORY_FTS, column("rowid"))


def postgres_document() -> ColumnElement[Any]:
    """The text PostgreSQL searches, spelt exactly as its GIN index is (a
    bound parameter in place of a literal would keep the index unused)."""
    return func.to_tsvector(
        literal_column("'simple'::regconfig"),
        _C.text.op("||")(literal_column("' '")).op("||")(cast(_C.tags, Text)),
    )


class SqlMemoryRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, item: MemoryItem) -> None:
        row = rows.owned_row(rows.MEMORY_ITEMS, item, self._tx.workspace_id)
        if not await self._tx.insert_new(memory_items, row):
            raise Conflict(f"memory item {item.id!r} already exists")

    async def get(self, item_id: str, *, now: datetime) -> MemoryItem:
        found = await self._fetch([_C.id == item_id, _live(now)], order=(), limit=1)
        if not found:
            raise NotFound("memory item", item_id)
        return found[0]

    async def delete(self, item_id: str) -> None:
        statement = delete(memory_items).where(self._tx.scoped(memory_items), _C.id == item_id)
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("memory item", item_id)

    async def search(self, query: MemoryQuery, *, now: datetime) -> list[MemoryItem]:
        where = self._where(query, now)
        newest = (_C.created_at.desc(), _C.id.desc())
        terms = search_terms(query.text)
        limit = max(query.limit, 0)
        if not terms:
            return await self._fetch(where, order=newest, limit=limit)
        if self._tx.dialect == "postgresql":
            document = postgres_document()
            wanted = func.to_tsquery(
                literal_column("'simple'::regconfig"), bindparam("terms", " | ".join(terms))
            )
            where.append(document.op("@@")(wanted))
            rank = func.ts_rank(document, wanted).desc()
            return await self._fetch(where, order=(rank, *newest), limit=limit)
        # FTS5: each term quoted (a bare word could read as an operator).
        match = " OR ".join(f'"{t}"' for t in terms)
        where.append(literal_column(MEMORY_FTS).op("MATCH")(bindparam("match", match)))
        bm25 = func.bm25(literal_column(MEMORY_FTS))  # lower is better
        return await self._fetch(where, order=(bm25, *newest), limit=limit, join_fts=True)

    async def put_vector(self, item_id: str, *, model: str, vector: Sequence[float]) -> None:
        row = vector_row(item_id, self._tx.workspace_id, model, vector)
        if not await self._tx.exists(memory_items, "id", item_id):
            raise NotFound("memory item", item_id)
        # Delete and insert rather than upsert: the insert names the item as
        # the missing parent should a concurrent delete take it first.
        await self._tx.execute(
            delete(memory_vectors).where(self._tx.scoped(memory_vectors), _V.item_id == item_id)
        )
        await self._tx.insert_new(memory_vectors, row, parent=("memory item", item_id))

    async def nearest(
        self,
        query: MemoryQuery,
        *,
        model: str,
        vector: Sequence[float],
        now: datetime,
        min_similarity: float = 0.0,
    ) -> list[MemoryItem]:
        candidates = (
            select(_V.item_id, _V.vector)
            .select_from(memory_vectors.join(memory_items, _C.id == _V.item_id))
            .where(
                self._tx.scoped(memory_vectors),
                self._tx.scoped(memory_items),
                _V.model == model,
                _V.dims == len(vector),
                *self._where(query, now),
            )
            .order_by(_C.created_at.desc(), _C.id.desc())
            .limit(MAX_VECTOR_SCAN)
        )
        found = [(r.item_id, bytes(r.vector)) for r in await self._tx.execute(candidates)]
        best = most_similar(vector, found, limit=query.limit, above=min_similarity)
        if not best:
            return []
        items = {i.id: i for i in await self._fetch([_C.id.in_(best)], order=(), limit=len(best))}
        return [items[i] for i in best if i in items]

    async def without_vector(self, model: str, *, now: datetime, limit: int) -> list[MemoryItem]:
        theirs = and_(_V.item_id == _C.id, _V.model == model)
        query = (
            select(memory_items)
            .select_from(memory_items.outerjoin(memory_vectors, theirs))
            .where(self._tx.scoped(memory_items), _live(now), _V.item_id.is_(null()))
            .order_by(_C.created_at.desc(), _C.id.desc())
            .limit(max(limit, 0))
        )
        found = (await self._tx.execute(query)).mappings()
        return [rows.MEMORY_ITEMS.decode(r) for r in found]

    async def delete_expired(self, now: datetime, *, limit: int = 500) -> int:
        doomed = (
            select(_C.seq)
            .where(self._tx.scoped(memory_items), _C.expires_at <= now)
            .order_by(_C.expires_at, _C.id)
            .limit(max(limit, 0))
        )
        statement = delete(memory_items).where(_C.seq.in_(doomed.scalar_subquery()))
        return int((await self._tx.execute(statement)).rowcount or 0)

    def _where(self, query: MemoryQuery, now: datetime) -> list[Any]:
        where: list[Any] = [_live(now)]
        if query.agent_id is not None:
            where.append(or_(_C.agent_id == query.agent_id, _C.agent_id.is_(null())))
        if query.kind is not None:
            where.append(_C.kind == query.kind.value)
        if query.run_ids is not None:
            where.append(_C.run_id.in_(list(query.run_ids)))
        return where

    async def _fetch(
        self,
        where: list[Any],
        *,
        order: Sequence[Any],
        limit: int,
        join_fts: bool = False,
    ) -> list[MemoryItem]:
        source = memory_items.join(_FTS, _FTS.c.rowid == _C.seq) if join_fts else memory_items
        query = (
            select(memory_items)
            .select_from(source)
            .where(self._tx.scoped(memory_items), *where)
            .order_by(*order)
            .limit(limit)
        )
        found = (await self._tx.execute(query)).mappings()
        return [rows.MEMORY_ITEMS.decode(r) for r in found]


def _live(now: datetime) -> ColumnElement[bool]:
    return or_(_C.expires_at.is_(null()), _C.expires_at > now)

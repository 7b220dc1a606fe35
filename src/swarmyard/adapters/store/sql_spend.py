"""SQL repositories of the ledger, price overrides, providers registered
through the API, and small per-workspace documents (routing rules).

Usage reports are GROUP BY queries over the ledger. Their fixed text (the
':' of a model reference, the '' standing for a missing project) is written
into the SQL rather than bound: PostgreSQL accepts a grouped expression in
the select list only when it is the very same text as in GROUP BY, and two
bound parameters are never the same text. Keys order by code point, as the
memory store orders them (`SqlConn.bytewise`).
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, literal_column, select

from swarmyard.domain import Conflict, LedgerEntry, ModelPrice, NotFound, UsageGroup, UsageRow
from swarmyard.ports import StoredProvider, UsageFilter

from .rows import as_utc, owned_row
from .spend_rows import (
    FILTER_COLUMNS,
    LEDGER,
    PRICES,
    ledger_row,
    provider_from_row,
    provider_row,
)
from .sql_base import SqlTx
from .tables import ledger, model_prices, providers, workspace_documents

__all__ = ["SqlLedgerRepo", "SqlPriceRepo", "SqlProviderRepo", "SqlSettingsRepo"]

_EVERYTHING = UsageFilter()
_ZERO: ColumnElement[int] = literal_column("0")
_L = ledger.c


def _or_empty(column: ColumnElement[str | None]) -> ColumnElement[str]:
    return func.coalesce(column, literal_column("''"))


_GROUP_KEY: dict[UsageGroup, ColumnElement[Any]] = {
    UsageGroup.PROVIDER: _L.provider,
    UsageGroup.MODEL: _L.provider + literal_column("':'") + _L.model,
    UsageGroup.ROLE: _L.role,
    UsageGroup.TASK_TYPE: _L.task_type,
    UsageGroup.DAY: _L.day,
    UsageGroup.PROJECT: _or_empty(_L.project_id),
    UsageGroup.AGENT: _or_empty(_L.agent_id),
    UsageGroup.TASK: _or_empty(_L.task_id),
    UsageGroup.RUN: _or_empty(_L.run_id),
}

_COST = func.coalesce(func.sum(_L.cost_microusd), _ZERO)
_SUMS = (
    func.count().label("calls"),
    func.coalesce(func.sum(case((_L.ok, _ZERO), else_=literal_column("1"))), _ZERO).label(
        "failed_calls"
    ),
    func.coalesce(func.sum(_L.tokens_in), _ZERO).label("tokens_in"),
    func.coalesce(func.sum(_L.tokens_out), _ZERO).label("tokens_out"),
    func.coalesce(func.sum(_L.tokens_cached), _ZERO).label("tokens_cached"),
    _COST.label("cost_microusd"),
)


class SqlLedgerRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, entry: LedgerEntry) -> None:
        row = ledger_row(entry, self._tx.workspace_id)
        if not await self._tx.insert_new(ledger, row):
            raise Conflict(f"ledger entry {entry.id!r} already exists")

    async def list(
        self, flt: UsageFilter = _EVERYTHING, *, limit: int = 100
    ) -> builtins.list[LedgerEntry]:
        query = (
            select(ledger)
            .where(*self._matching(flt))
            .order_by(_L.at.desc(), _L.id.desc())
            .limit(limit)
        )
        return [LEDGER.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def usage(
        self, group_by: UsageGroup, flt: UsageFilter = _EVERYTHING, *, limit: int = 1000
    ) -> builtins.list[UsageRow]:
        key = _GROUP_KEY[UsageGroup(group_by)]
        query = (
            select(key.label("key"), *_SUMS)
            .where(*self._matching(flt))
            .group_by(key)
            .order_by(_COST.desc(), self._tx.bytewise(key))
            .limit(limit)
        )
        return [_usage_row(r) for r in (await self._tx.execute(query)).mappings()]

    async def totals(self, flt: UsageFilter = _EVERYTHING) -> UsageRow:
        query = select(literal_column("''").label("key"), *_SUMS).where(*self._matching(flt))
        return _usage_row((await self._tx.execute(query)).mappings().one())

    async def run_costs(self, *, role: str, task_type: str, limit: int = 50) -> builtins.list[int]:
        query = (
            select(_COST)
            .where(
                self._tx.scoped(ledger),
                _L.role == role,
                _L.task_type == task_type,
                _L.run_id.is_not(None),
            )
            .group_by(_L.run_id)
            .order_by(func.max(_L.at).desc(), self._tx.bytewise(_L.run_id).desc())
            .limit(limit)
        )
        return [int(cost) for cost in (await self._tx.execute(query)).scalars()]

    def _matching(self, flt: UsageFilter) -> builtins.list[ColumnElement[bool]]:
        where = [self._tx.scoped(ledger)]
        if flt.since is not None:
            where.append(_L.at >= flt.since)
        if flt.until is not None:
            where.append(_L.at < flt.until)
        for name in FILTER_COLUMNS:
            value = getattr(flt, name)
            if value is not None:
                where.append(_L[name] == value)
        return where


def _usage_row(row: Any) -> UsageRow:
    # PostgreSQL sums BIGINT into NUMERIC, which arrives as Decimal.
    return UsageRow(
        key=str(row["key"]),
        calls=int(row["calls"]),
        failed_calls=int(row["failed_calls"]),
        tokens_in=int(row["tokens_in"]),
        tokens_out=int(row["tokens_out"]),
        tokens_cached=int(row["tokens_cached"]),
        cost_microusd=int(row["cost_microusd"]),
    )


class SqlPriceRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def list(self) -> builtins.list[ModelPrice]:
        query = (
            select(model_prices)
            .where(self._tx.scoped(model_prices))
            .order_by(self._tx.bytewise(model_prices.c.model_ref))
        )
        return [PRICES.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def get(self, model_ref: str) -> ModelPrice | None:
        query = select(model_prices).where(self._key(model_ref))
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else PRICES.decode(row)

    async def put(self, price: ModelPrice) -> None:
        row = owned_row(PRICES, price, self._tx.workspace_id)
        await self._tx.upsert(model_prices, row)

    async def delete(self, model_ref: str) -> None:
        statement = delete(model_prices).where(self._key(model_ref))
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("model_price", model_ref)

    def _key(self, model_ref: str) -> ColumnElement[bool]:
        return and_(self._tx.scoped(model_prices), model_prices.c.model_ref == model_ref)


class SqlProviderRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def list(self) -> builtins.list[StoredProvider]:
        query = (
            select(providers)
            .where(self._tx.scoped(providers))
            .order_by(self._tx.bytewise(providers.c.name))
        )
        return [provider_from_row(r) for r in (await self._tx.execute(query)).mappings()]

    async def get(self, name: str) -> StoredProvider | None:
        query = select(providers).where(self._key(name))
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else provider_from_row(row)

    async def put(self, provider: StoredProvider) -> None:
        row = provider_row(provider, self._tx.workspace_id)
        await self._tx.upsert(providers, row)

    async def delete(self, name: str) -> None:
        statement = delete(providers).where(self._key(name))
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("provider", name)

    def _key(self, name: str) -> ColumnElement[bool]:
        return and_(self._tx.scoped(providers), providers.c.name == name)


class SqlSettingsRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def get(self, name: str) -> Any | None:
        query: Select[tuple[Any]] = select(workspace_documents.c.body).where(self._key(name))
        return (await self._tx.execute(query)).scalar_one_or_none()

    async def put(self, name: str, value: Any, *, at: datetime, by: str) -> None:
        row = {
            "workspace_id": self._tx.workspace_id,
            "name": name,
            "body": value,
            "updated_at": as_utc(at),
            "updated_by": by,
        }
        await self._tx.upsert(workspace_documents, row)

    async def delete(self, name: str) -> bool:
        statement = delete(workspace_documents).where(self._key(name))
        return bool((await self._tx.execute(statement)).rowcount)

    def _key(self, name: str) -> ColumnElement[bool]:
        return and_(self._tx.scoped(workspace_documents), workspace_documents.c.name == name)

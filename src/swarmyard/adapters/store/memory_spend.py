"""In-memory ledger, price overrides, providers and workspace documents (the
counterparts of `sql_spend.py`, with the same answers)."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from swarmyard.domain import Conflict, LedgerEntry, ModelPrice, NotFound, UsageGroup, UsageRow
from swarmyard.ports import StoredProvider, UsageFilter

from .memory_base import MemoryTx, thaw, thaw_all
from .rows import Row, as_utc
from .spend_rows import (
    FILTER_COLUMNS,
    LEDGER,
    PRICES,
    ledger_row,
    provider_from_row,
    provider_row,
)

__all__ = [
    "MemoryLedgerRepo",
    "MemoryPriceRepo",
    "MemoryProviderRepo",
    "MemorySettingsRepo",
]

_EVERYTHING = UsageFilter()

# How each grouping names an entry's group; a missing value is "".
_GROUP_KEY: dict[UsageGroup, Callable[[Row], str]] = {
    UsageGroup.PROVIDER: lambda r: str(r["provider"]),
    UsageGroup.MODEL: lambda r: f"{r['provider']}:{r['model']}",
    UsageGroup.ROLE: lambda r: str(r["role"]),
    UsageGroup.TASK_TYPE: lambda r: str(r["task_type"]),
    UsageGroup.DAY: lambda r: str(r["day"]),
    UsageGroup.PROJECT: lambda r: r["project_id"] or "",
    UsageGroup.AGENT: lambda r: r["agent_id"] or "",
    UsageGroup.TASK: lambda r: r["task_id"] or "",
    UsageGroup.RUN: lambda r: r["run_id"] or "",
}


class MemoryLedgerRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.ledger

    async def add(self, entry: LedgerEntry) -> None:
        row = ledger_row(entry, self._tx.workspace_id)
        if entry.id in self._table:
            raise Conflict(f"ledger entry {entry.id!r} already exists")
        self._tx.put(self._table, entry.id, row)

    async def list(
        self, flt: UsageFilter = _EVERYTHING, *, limit: int = 100
    ) -> builtins.list[LedgerEntry]:
        found = self._tx.scan(self._table, *_conditions(flt))
        found.sort(key=lambda r: (r["at"], r["id"]), reverse=True)
        return thaw_all(LEDGER, found[: max(limit, 0)])

    async def usage(
        self, group_by: UsageGroup, flt: UsageFilter = _EVERYTHING, *, limit: int = 1000
    ) -> builtins.list[UsageRow]:
        key_of = _GROUP_KEY[UsageGroup(group_by)]
        groups: dict[str, builtins.list[Row]] = {}
        for row in self._tx.scan(self._table, *_conditions(flt)):
            groups.setdefault(key_of(row), []).append(row)
        summed = [_sum(key, found) for key, found in groups.items()]
        summed.sort(key=lambda u: (-u.cost_microusd, u.key))
        return summed[: max(limit, 0)]

    async def totals(self, flt: UsageFilter = _EVERYTHING) -> UsageRow:
        return _sum("", self._tx.scan(self._table, *_conditions(flt)))

    async def run_costs(self, *, role: str, task_type: str, limit: int = 50) -> builtins.list[int]:
        found = self._tx.scan(
            self._table,
            lambda r: r["role"] == role and r["task_type"] == task_type,
            lambda r: r["run_id"] is not None,
        )
        runs: dict[str, tuple[datetime, int]] = {}
        for row in found:
            latest, cost = runs.get(row["run_id"], (row["at"], 0))
            runs[row["run_id"]] = (max(latest, row["at"]), cost + row["cost_microusd"])
        newest = sorted(runs.items(), key=lambda item: (item[1][0], item[0]), reverse=True)
        return [cost for _, (_, cost) in newest[: max(limit, 0)]]


def _sum(key: str, found: Iterable[Row]) -> UsageRow:
    calls = failed = tokens_in = tokens_out = tokens_cached = cost = 0
    for row in found:
        calls += 1
        failed += 0 if row["ok"] else 1
        tokens_in += row["tokens_in"]
        tokens_out += row["tokens_out"]
        tokens_cached += row["tokens_cached"]
        cost += row["cost_microusd"]
    return UsageRow(key, calls, failed, tokens_in, tokens_out, tokens_cached, cost)


def _conditions(flt: UsageFilter) -> builtins.list[Callable[[Row], bool]]:
    where: builtins.list[Callable[[Row], bool]] = []
    if flt.since is not None:
        since = as_utc(flt.since)
        where.append(lambda r: r["at"] >= since)
    if flt.until is not None:
        until = as_utc(flt.until)
        where.append(lambda r: r["at"] < until)
    given = {name: getattr(flt, name) for name in FILTER_COLUMNS}
    given = {name: value for name, value in given.items() if value is not None}
    if given:
        where.append(lambda r: all(r[name] == value for name, value in given.items()))
    return where


class MemoryPriceRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.prices

    async def list(self) -> builtins.list[ModelPrice]:
        found = self._tx.scan(self._table)
        found.sort(key=lambda r: r["model_ref"])
        return thaw_all(PRICES, found)

    async def get(self, model_ref: str) -> ModelPrice | None:
        row = self._tx.mine(self._table.get((self._tx.workspace_id, model_ref)))
        return None if row is None else thaw(PRICES, row)

    async def put(self, price: ModelPrice) -> None:
        row = self._tx.freeze(PRICES, price)
        self._tx.put(self._table, (self._tx.workspace_id, price.model_ref), row)

    async def delete(self, model_ref: str) -> None:
        key = (self._tx.workspace_id, model_ref)
        if self._tx.mine(self._table.get(key)) is None:
            raise NotFound("model_price", model_ref)
        self._tx.remove(self._table, key)


class MemoryProviderRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.providers

    async def list(self) -> builtins.list[StoredProvider]:
        found = self._tx.scan(self._table)
        found.sort(key=lambda r: r["name"])
        return [_provider(r) for r in found]

    async def get(self, name: str) -> StoredProvider | None:
        row = self._tx.mine(self._table.get((self._tx.workspace_id, name)))
        return None if row is None else _provider(row)

    async def put(self, provider: StoredProvider) -> None:
        row = provider_row(provider, self._tx.workspace_id)
        row["spec"] = json.dumps(row["spec"])  # stored as a database would
        self._tx.put(self._table, (self._tx.workspace_id, provider.spec.name), row)

    async def delete(self, name: str) -> None:
        key = (self._tx.workspace_id, name)
        if self._tx.mine(self._table.get(key)) is None:
            raise NotFound("provider", name)
        self._tx.remove(self._table, key)


def _provider(row: Row) -> StoredProvider:
    return provider_from_row({**row, "spec": json.loads(row["spec"])})


class MemorySettingsRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.documents

    async def get(self, name: str) -> Any | None:
        row = self._tx.mine(self._table.get((self._tx.workspace_id, name)))
        return None if row is None else json.loads(row["body"])

    async def put(self, name: str, value: Any, *, at: datetime, by: str) -> None:
        row = {
            "workspace_id": self._tx.workspace_id,
            "name": name,
            "body": json.dumps(value),  # refuses what is not JSON, as a database would
            "updated_at": as_utc(at),
            "updated_by": by,
        }
        self._tx.put(self._table, (self._tx.workspace_id, name), row)

    async def delete(self, name: str) -> bool:
        key = (self._tx.workspace_id, name)
        if self._tx.mine(self._table.get(key)) is None:
            return False
        self._tx.remove(self._table, key)
        return True

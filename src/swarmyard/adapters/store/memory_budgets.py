"""In-memory budgets, their counters and reservations (the counterpart of
`sql_budgets.py`, with the same answers).

Units of work of the memory store run one at a time, so a reservation can
read every counter and then write: nobody moves a counter in between. Every
write goes through the journal, so a unit of work left without `commit()`
takes its reservations and charges back with it.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from swarmyard.domain import (
    Budget,
    BudgetCounter,
    BudgetScope,
    Conflict,
    CounterKey,
    LedgerEntry,
    NotFound,
    Reservation,
    window_end,
)

from .memory_base import MemoryJournal, MemoryTx, thaw, thaw_all
from .rows import Row, as_utc
from .spend_rows import (
    BUDGETS,
    RESERVATIONS,
    SCOPE_COLUMN,
    budget_label,
    charged_keys,
    counter_row,
    in_lock_order,
    ledger_row,
)

__all__ = ["MemoryBudgetRepo", "release_expired"]

CounterId = tuple[str, str, str, str, datetime]


class MemoryBudgetRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._budgets = tx.state.budgets
        self._counters = tx.state.counters
        self._reservations = tx.state.reservations

    async def list(self) -> builtins.list[Budget]:
        found = self._tx.scan(self._budgets)
        found.sort(key=lambda r: (r["scope"], r["scope_id"]))
        return thaw_all(BUDGETS, found)

    async def get(self, scope: BudgetScope, scope_id: str) -> Budget | None:
        row = self._tx.mine(self._budgets.get(self._budget_id(scope, scope_id)))
        return None if row is None else thaw(BUDGETS, row)

    async def put(self, budget: Budget) -> None:
        row = self._tx.freeze(BUDGETS, budget)
        self._tx.put(self._budgets, self._budget_id(budget.scope, budget.scope_id), row)

    async def delete(self, scope: BudgetScope, scope_id: str) -> None:
        key = self._budget_id(scope, scope_id)
        if self._tx.mine(self._budgets.get(key)) is None:
            raise NotFound("budget", budget_label(scope, scope_id))
        self._tx.remove(self._budgets, key)

    async def counters(self, keys: Sequence[CounterKey]) -> dict[CounterKey, BudgetCounter]:
        return {key: self._counter(key) for key in keys}

    async def reserve(self, reservation: Reservation, limits: Mapping[CounterKey, int]) -> bool:
        row = self._tx.freeze(RESERVATIONS, replace(reservation, keys=builtins.list(limits)))
        if reservation.id in self._reservations:
            raise Conflict(f"reservation {reservation.id!r} already exists")
        # Written first, as the SQL store does: a missing workspace is
        # NotFound even when a counter would have refused.
        self._tx.put(self._reservations, reservation.id, row)
        held = [(key, self._counter(key)) for key in in_lock_order(limits)]
        if any(counter.committed >= limits[key] for key, counter in held):
            self._tx.remove(self._reservations, reservation.id)
            return False
        for key, counter in held:
            self._tx.put(
                self._counters,
                _counter_id(self._tx.workspace_id, key),
                {
                    **counter_row(self._tx.workspace_id, key),
                    "spent_microusd": counter.spent_microusd,
                    "reserved_microusd": counter.reserved_microusd + reservation.amount_microusd,
                },
            )
        return True

    async def release(self, reservation_id: str) -> Reservation | None:
        row = self._tx.mine(self._reservations.get(reservation_id))
        return None if row is None else _release(self._tx, row)

    async def charge(self, entry: LedgerEntry) -> None:
        ledger_row(entry, self._tx.workspace_id)  # refuses another workspace's entry
        if entry.cost_microusd <= 0:
            return
        for key in charged_keys(entry):
            counter_id = _counter_id(self._tx.workspace_id, key)
            row = self._tx.mine(self._counters.get(counter_id))
            if row is not None:
                spent = row["spent_microusd"] + entry.cost_microusd
                self._tx.change(self._counters, counter_id, spent_microusd=spent)

    async def open_reservations(self) -> builtins.list[Reservation]:
        found = self._tx.scan(self._reservations)
        found.sort(key=lambda r: (r["created_at"], r["id"]))
        return thaw_all(RESERVATIONS, found)

    def _budget_id(self, scope: BudgetScope, scope_id: str) -> tuple[str, str, str]:
        return (self._tx.workspace_id, BudgetScope(scope).value, scope_id)

    def _counter(self, key: CounterKey) -> BudgetCounter:
        """The stored counter, or what it would start from."""
        row = self._tx.mine(self._counters.get(_counter_id(self._tx.workspace_id, key)))
        if row is not None:
            return BudgetCounter(key, row["spent_microusd"], row["reserved_microusd"])
        return BudgetCounter(key, self._ledger_sum(key))

    def _ledger_sum(self, key: CounterKey) -> int:
        start = as_utc(key.window_start)
        end = window_end(key.period, start)
        column = SCOPE_COLUMN[BudgetScope(key.scope)]
        found = self._tx.scan(
            self._tx.state.ledger,
            lambda r: start <= r["at"] < end,
            lambda r: column is None or r[column] == key.scope_id,
        )
        return sum(r["cost_microusd"] for r in found)


def release_expired(journal: MemoryJournal, now: datetime, limit: int) -> list[Reservation]:
    """Release the reservations of every workspace expired at `now`, oldest first."""
    now = as_utc(now)
    journal.check()
    found = [r for r in journal.state.reservations.values() if r["expires_at"] <= now]
    found.sort(key=lambda r: (r["expires_at"], r["id"]))
    return [_release(journal, r) for r in found[: max(limit, 0)]]


def _release(journal: MemoryJournal, row: Row) -> Reservation:
    """Drop the reservation and take its amount off the counters it holds."""
    reservation = thaw(RESERVATIONS, row)
    state = journal.state
    journal.remove(state.reservations, reservation.id)
    for key in in_lock_order(reservation.keys):
        counter_id = _counter_id(reservation.workspace_id, key)
        counter = state.counters.get(counter_id)
        if counter is not None:
            reserved = max(counter["reserved_microusd"] - reservation.amount_microusd, 0)
            journal.write(state.counters, counter_id, {**counter, "reserved_microusd": reserved})
    return reservation


def _counter_id(workspace_id: str, key: CounterKey) -> CounterId:
    row = counter_row(workspace_id, key)
    return (row["workspace_id"], row["scope"], row["scope_id"], row["period"], row["window_start"])

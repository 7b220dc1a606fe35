"""SQL repository of budgets, their counters and reservations.

Counters move only through single guarded UPDATE statements: a hold is
``reserved = reserved + amount WHERE spent + reserved < limit``, which
PostgreSQL re-checks on the newest row version after waiting for a
concurrent writer (READ COMMITTED) and SQLite runs under its only write
lock, so concurrent calls in any number of processes can never be admitted
past a limit by more than one call's reservation. A reservation holding
several counters takes them inside a savepoint and gives all of them back
when one refuses. Every transaction takes counters in one order
(`spend_rows.lock_rank`), so two of them never wait for each other in a
circle.

A counter is a cache of the ledger, created from the ledger's sum when a
reservation first needs it. A call committed while its window's counter
is being created can be missed by that sum; the ledger stays the truth
and usage reports read it, not the counters.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    func,
    literal_column,
    or_,
    select,
    update,
)

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

from .rows import as_utc, owned_row
from .spend_rows import (
    BUDGETS,
    RESERVATIONS,
    SCOPE_COLUMN,
    budget_label,
    charged_keys,
    counter_key,
    counter_row,
    in_lock_order,
    ledger_row,
    lock_rank,
)
from .sql_base import SqlConn, SqlTx
from .tables import budget_counters, budget_reservations, budgets, ledger

__all__ = ["SqlBudgetRepo", "release_expired"]

_COUNTER = budget_counters.c


class SqlBudgetRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def list(self) -> builtins.list[Budget]:
        query = (
            select(budgets)
            .where(self._tx.scoped(budgets))
            .order_by(budgets.c.scope, self._tx.bytewise(budgets.c.scope_id))
        )
        return [BUDGETS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def get(self, scope: BudgetScope, scope_id: str) -> Budget | None:
        query = select(budgets).where(self._budget(scope, scope_id))
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else BUDGETS.decode(row)

    async def put(self, budget: Budget) -> None:
        row = owned_row(BUDGETS, budget, self._tx.workspace_id)
        await self._tx.upsert(budgets, row)

    async def delete(self, scope: BudgetScope, scope_id: str) -> None:
        statement = delete(budgets).where(self._budget(scope, scope_id))
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("budget", budget_label(scope, scope_id))

    async def counters(self, keys: Sequence[CounterKey]) -> dict[CounterKey, BudgetCounter]:
        if not keys:
            return {}
        ws = self._tx.workspace_id
        query = select(budget_counters).where(or_(*(_counter_at(ws, k) for k in keys)))
        stored = {counter_key(r): r for r in (await self._tx.execute(query)).mappings()}
        found: dict[CounterKey, BudgetCounter] = {}
        for key in keys:
            row = stored.get(key)
            if row is None:
                spent = (await self._tx.execute(self._ledger_sum(key))).scalar_one()
                found[key] = BudgetCounter(key, int(spent))
            else:
                found[key] = BudgetCounter(key, row["spent_microusd"], row["reserved_microusd"])
        return found

    async def reserve(self, reservation: Reservation, limits: Mapping[CounterKey, int]) -> bool:
        stored = replace(reservation, keys=builtins.list(limits))
        row = owned_row(RESERVATIONS, stored, self._tx.workspace_id)
        # Inserted first: a missing workspace fails here, outside the savepoint.
        if not await self._tx.insert_new(budget_reservations, row):
            raise Conflict(f"reservation {reservation.id!r} already exists")
        if await self._hold_all(limits, reservation.amount_microusd):
            return True
        await self._tx.execute(
            delete(budget_reservations).where(
                self._tx.scoped(budget_reservations), budget_reservations.c.id == reservation.id
            )
        )
        return False

    async def release(self, reservation_id: str) -> Reservation | None:
        # Whoever deletes the row takes the amount off: a second release,
        # concurrent or not, deletes nothing and changes nothing.
        statement = (
            delete(budget_reservations)
            .where(self._tx.scoped(budget_reservations), budget_reservations.c.id == reservation_id)
            .returning(*budget_reservations.c)
        )
        row = (await self._tx.execute(statement)).mappings().first()
        if row is None:
            return None
        reservation = RESERVATIONS.decode(row)
        await _take_off(self._tx, [reservation])
        return reservation

    async def charge(self, entry: LedgerEntry) -> None:
        ledger_row(entry, self._tx.workspace_id)  # refuses another workspace's entry
        if entry.cost_microusd <= 0:
            return
        for key in charged_keys(entry):
            # Matches nothing where no counter exists: a counter created
            # later starts from the ledger, this entry included.
            await self._tx.execute(
                update(budget_counters)
                .where(_counter_at(self._tx.workspace_id, key))
                .values(spent_microusd=_COUNTER.spent_microusd + entry.cost_microusd)
            )

    async def open_reservations(self) -> builtins.list[Reservation]:
        c = budget_reservations.c
        query = (
            select(budget_reservations)
            .where(self._tx.scoped(budget_reservations))
            .order_by(c.created_at, c.id)
        )
        return [RESERVATIONS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    def _budget(self, scope: BudgetScope, scope_id: str) -> ColumnElement[bool]:
        return and_(
            self._tx.scoped(budgets),
            budgets.c.scope == BudgetScope(scope).value,
            budgets.c.scope_id == scope_id,
        )

    async def _hold_all(self, limits: Mapping[CounterKey, int], amount: int) -> bool:
        """Hold `amount` on every counter of `limits`, or on none."""
        async with self._tx.conn.begin_nested() as savepoint:
            for key in in_lock_order(limits):
                if not await self._hold(key, limits[key], amount):
                    await savepoint.rollback()
                    return False
        return True

    async def _hold(self, key: CounterKey, limit: int, amount: int) -> bool:
        if await self._add_reserved(key, limit, amount):
            return True
        ws = self._tx.workspace_id
        if not await self._tx.found(select(_COUNTER.period).where(_counter_at(ws, key))):
            await self._tx.execute(
                self._tx.insert_ignoring(budget_counters).values(
                    **counter_row(ws, key),
                    spent_microusd=self._ledger_sum(key).scalar_subquery(),
                    reserved_microusd=0,
                )
            )
        # Again even when the counter was there: it may have been created,
        # by another transaction, after the first UPDATE looked.
        return await self._add_reserved(key, limit, amount)

    async def _add_reserved(self, key: CounterKey, limit: int, amount: int) -> bool:
        statement = (
            update(budget_counters)
            .where(
                _counter_at(self._tx.workspace_id, key),
                _COUNTER.spent_microusd + _COUNTER.reserved_microusd < limit,
            )
            .values(reserved_microusd=_COUNTER.reserved_microusd + amount)
        )
        return bool((await self._tx.execute(statement)).rowcount)

    def _ledger_sum(self, key: CounterKey) -> Select[tuple[int]]:
        """What the ledger says was spent in this counter's scope and window."""
        start = as_utc(key.window_start)
        where = [
            self._tx.scoped(ledger),
            ledger.c.at >= start,
            ledger.c.at < window_end(key.period, start),
        ]
        column = SCOPE_COLUMN[BudgetScope(key.scope)]
        if column is not None:
            where.append(ledger.c[column] == key.scope_id)
        # A literal zero: a bound one would need a type PostgreSQL cannot infer here.
        total = func.coalesce(func.sum(ledger.c.cost_microusd), literal_column("0"))
        return select(total).where(*where)


async def release_expired(conn: SqlConn, now: datetime, limit: int) -> list[Reservation]:
    """Release the reservations of every workspace expired at `now`, oldest first."""
    c = budget_reservations.c
    due = select(c.id).where(c.expires_at <= now).order_by(c.expires_at, c.id).limit(limit)
    # Only what this DELETE removed is returned: a reservation released
    # meanwhile by its worker, or by another sweep, is not released twice.
    statement = delete(budget_reservations).where(c.id.in_(due)).returning(*budget_reservations.c)
    released = [RESERVATIONS.decode(r) for r in (await conn.execute(statement)).mappings()]
    released.sort(key=lambda r: (r.expires_at, r.id))
    await _take_off(conn, released)
    return released


async def _take_off(conn: SqlConn, reservations: Iterable[Reservation]) -> None:
    """Take released reservations' amounts off their counters' `reserved`,
    one UPDATE per counter, in lock order."""
    amounts: defaultdict[tuple[str, CounterKey], int] = defaultdict(int)
    for reservation in reservations:
        for key in in_lock_order(reservation.keys):
            amounts[(reservation.workspace_id, key)] += reservation.amount_microusd
    reserved = _COUNTER.reserved_microusd
    for ws, key in sorted(amounts, key=lambda wk: (wk[0], lock_rank(wk[1]))):
        amount = amounts[(ws, key)]
        await conn.execute(
            update(budget_counters)
            .where(_counter_at(ws, key))
            .values(reserved_microusd=case((reserved > amount, reserved - amount), else_=0))
        )


def _counter_at(workspace_id: str, key: CounterKey) -> ColumnElement[bool]:
    return and_(
        *(_COUNTER[name] == value for name, value in counter_row(workspace_id, key).items())
    )

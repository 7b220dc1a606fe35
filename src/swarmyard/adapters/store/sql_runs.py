"""SQL repositories of runs and their append-only events.

A run's `attempt` is its fencing token. `claim` takes a run with one
guarded UPDATE (pending, or running with an expired lease) that bumps the
attempt; every later write of that worker carries its attempt in the WHERE
clause, so a worker that lost its lease can no longer write anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    delete,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)

from swarmyard.domain import Conflict, NotFound, Run, RunEvent, RunStatus, StaleAttempt
from swarmyard.ports import Page

from . import rows
from .coltypes import UtcDateTime
from .sql_base import SqlTx, newest_first
from .tables import run_events, runs

__all__ = ["SqlEventRepo", "SqlRunRepo"]

_FIRST_PAGE = Page()

# The checkpoint can be large: only `checkpoint()` reads it.
_RUN = [c for c in runs.c if c.name != "checkpoint"]
# Never written by save: identity, tenancy, birth, and the fencing token.
# A run waiting for approval keeps its agent's slot, as a delegating one does (ADR 14).
_HOLDS_SLOT = (
    RunStatus.PENDING.value,
    RunStatus.RUNNING.value,
    RunStatus.AWAITING_APPROVAL.value,
)


class SqlRunRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, run: Run) -> None:
        row = rows.owned_row(rows.RUNS, run, self._tx.workspace_id)
        if not await self._tx.insert_new(runs, row):
            raise Conflict(f"run {run.id!r} already exists")

    async def get(self, run_id: str) -> Run:
        row = (await self._tx.by_key(runs, _RUN, "id", run_id)).mappings().first()
        if row is None:
            raise NotFound("run", run_id)
        return rows.RUNS.decode(row)

    async def claim(
        self, run_id: str, *, owner: str, now: datetime, lease_until: datetime
    ) -> Run | None:
        c = runs.c
        claimable = or_(
            c.status == RunStatus.PENDING.value,
            and_(c.status == RunStatus.RUNNING.value, c.lease_expires_at < now),
        )
        statement = (
            update(runs)
            .where(self._tx.scoped(runs), c.id == run_id, claimable)
            .values(
                status=RunStatus.RUNNING.value,
                attempt=c.attempt + 1,
                lease_owner=owner,
                lease_expires_at=lease_until,
                started_at=func.coalesce(c.started_at, literal(now, UtcDateTime())),
            )
            .returning(*_RUN)
        )
        row = (await self._tx.execute(statement)).mappings().first()
        return None if row is None else rows.RUNS.decode(row)

    async def renew(self, run_id: str, *, attempt: int, owner: str, lease_until: datetime) -> bool:
        statement = (
            update(runs)
            .where(
                self._tx.scoped(runs),
                runs.c.id == run_id,
                runs.c.attempt == attempt,
                runs.c.lease_owner == owner,
                runs.c.status == RunStatus.RUNNING.value,
            )
            .values(lease_expires_at=lease_until)
        )
        return bool((await self._tx.execute(statement)).rowcount)

    async def save(self, run: Run, *, checkpoint: bytes | None = None) -> None:
        values: dict[str, Any] = rows.updatable(rows.RUNS.encode(run), "attempt", "stop_requested")
        # A stop request is sticky: the API sets it while the worker holds an
        # older copy, and the worker's next save must not clear it.
        if run.stop_requested:
            values["stop_requested"] = True
        if checkpoint is not None:
            values["checkpoint"] = checkpoint
        # The SET clause is the columns given as parameters: one statement
        # (with or without a checkpoint, a stop request) serves every save.
        statement = self._tx.prepared(
            ("save_run",),
            lambda: (
                update(runs)
                .where(
                    runs.c.workspace_id == bindparam("b_workspace"),
                    runs.c.id == bindparam("b_id"),
                    runs.c.attempt == bindparam("b_attempt"),
                )
                .returning(runs.c.stop_requested)
            ),
        )
        where = {"b_workspace": self._tx.workspace_id, "b_id": run.id, "b_attempt": run.attempt}
        result = await self._tx.execute(statement, [{**values, **where}])
        stop_requested = result.scalar_one_or_none()
        if stop_requested is not None:
            run.stop_requested = bool(stop_requested)
            return
        query = select(runs.c.attempt).where(self._tx.scoped(runs), runs.c.id == run.id)
        stored = (await self._tx.execute(query)).scalar_one_or_none()
        if stored is None:
            raise NotFound("run", run.id)
        raise StaleAttempt(
            f"run {run.id!r}: attempt {run.attempt} was superseded by attempt {stored}",
            details={"id": run.id, "attempt": run.attempt, "stored_attempt": stored},
        )

    async def checkpoint(self, run_id: str) -> bytes | None:
        found = await self._tx.by_key(runs, [runs.c.checkpoint], "id", run_id)
        value = found.scalar_one_or_none()
        return None if value is None else bytes(value)

    async def expired(self, now: datetime, limit: int = 100) -> list[Run]:
        status, since = RunStatus.RUNNING, runs.c.lease_expires_at
        return await self._in_status_since(status, since, now, limit)

    async def waiting(self, before: datetime, limit: int = 100) -> list[Run]:
        return await self._in_status_since(RunStatus.PENDING, runs.c.created_at, before, limit)

    async def _in_status_since(
        self, status: RunStatus, at: ColumnElement[datetime], before: datetime, limit: int
    ) -> list[Run]:
        """Runs in `status` whose `at` is before `before`, oldest first."""
        query = (
            select(*_RUN)
            .where(self._tx.scoped(runs), runs.c.status == status.value, at < before)
            .order_by(at, runs.c.id)
            .limit(limit)
        )
        return [rows.RUNS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def active_count(self, agent_id: str) -> int:
        query = select(func.count()).where(
            self._tx.scoped(runs), runs.c.agent_id == agent_id, runs.c.status.in_(_HOLDS_SLOT)
        )
        return int((await self._tx.execute(query)).scalar_one())

    async def list(
        self,
        *,
        task_id: str | None = None,
        statuses: Sequence[RunStatus] = (),
        agent_id: str | None = None,
        page: Page = _FIRST_PAGE,
    ) -> list[Run]:
        where, order = newest_first(runs, page, self._tx.scoped(runs))
        query = select(*_RUN).where(self._tx.scoped(runs), *where)
        if task_id is not None:
            query = query.where(runs.c.task_id == task_id)
        if agent_id is not None:
            query = query.where(runs.c.agent_id == agent_id)
        if statuses:
            query = query.where(runs.c.status.in_([RunStatus(s).value for s in statuses]))
        result = await self._tx.execute(query.order_by(*order).limit(page.limit))
        return [rows.RUNS.decode(r) for r in result.mappings()]


class SqlEventRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def append(self, events: Sequence[RunEvent]) -> None:
        if not events:
            return
        keys = [(e.run_id, e.seq) for e in events]
        if len(set(keys)) != len(keys):
            raise Conflict("the same (run_id, seq) appears twice in one append")
        batch = [rows.owned_row(rows.EVENTS, e, self._tx.workspace_id) for e in events]
        # One batch on the hot path, with a cached plan (the rows are
        # parameters); rows that collide are skipped, then the rest is taken
        # back so that a rejected append writes nothing.
        statement = self._tx.prepared(
            ("append_events",),
            lambda: self._tx.insert_ignoring(run_events).returning(
                run_events.c.run_id, run_events.c.seq
            ),
        )
        inserted = [tuple(r) for r in await self._tx.execute(statement, batch)]
        if len(inserted) == len(batch):
            return
        if inserted:
            key = tuple_(run_events.c.run_id, run_events.c.seq)
            await self._tx.execute(delete(run_events).where(key.in_(inserted)))
        taken = sorted(set(keys) - set(inserted))
        raise Conflict(
            f"run events already exist: {', '.join(f'{r}#{s}' for r, s in taken)}",
            details=[{"run_id": r, "seq": s} for r, s in taken],
        )

    async def list(self, run_id: str, *, after: int = 0, limit: int = 1000) -> list[RunEvent]:
        query = (
            select(run_events)
            .where(
                self._tx.scoped(run_events),
                run_events.c.run_id == run_id,
                run_events.c.seq > after,
            )
            .order_by(run_events.c.seq)
            .limit(limit)
        )
        return [rows.EVENTS.decode(r) for r in (await self._tx.execute(query)).mappings()]

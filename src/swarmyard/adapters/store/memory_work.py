"""In-memory repositories of tasks, runs and run events
(the counterparts of `sql_tasks.py` and `sql_runs.py`, with the same answers)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from swarmyard.domain import (
    Conflict,
    NotFound,
    Run,
    RunEvent,
    RunStatus,
    StaleAttempt,
    Task,
    TaskStatus,
)
from swarmyard.ports import Page, TaskFilter

from . import rows
from .memory_base import MemoryTx, thaw, thaw_all
from .rows import Row, as_utc

__all__ = ["MemoryEventRepo", "MemoryRunRepo", "MemoryTaskRepo"]

_FIRST_PAGE = Page()
_ALL_TASKS = TaskFilter()

# A run waiting for approval keeps its agent's slot, as a delegating one does (ADR 14).
_HOLDS_SLOT = (
    RunStatus.PENDING.value,
    RunStatus.RUNNING.value,
    RunStatus.AWAITING_APPROVAL.value,
)


class MemoryTaskRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.tasks

    async def add(self, task: Task) -> None:
        row = self._tx.freeze(rows.TASKS, task)
        if task.origin_key is not None and await self.by_origin(task.origin_key) is not None:
            raise Conflict(
                f"a task with origin key {task.origin_key!r} already exists",
                details={"origin_key": task.origin_key},
            )
        if task.id in self._table:
            raise Conflict(f"task {task.id!r} already exists")
        self._tx.put(self._table, task.id, row)

    async def get(self, task_id: str) -> Task:
        return thaw(rows.TASKS, self._row(task_id))

    async def get_many(self, task_ids: Sequence[str]) -> list[Task]:
        found = [self._tx.mine(self._table.get(i)) for i in dict.fromkeys(task_ids)]
        return thaw_all(rows.TASKS, [r for r in found if r is not None])

    async def by_origin(self, origin_key: str) -> Task | None:
        found = self._tx.scan_index(self._table, "origin_key", (origin_key,))
        return thaw(rows.TASKS, found[0]) if found else None

    async def update(self, task: Task) -> None:
        stored = self._row(task.id)["version"]
        if stored != task.version:
            raise Conflict(
                f"task {task.id!r} was changed meanwhile (version {task.version} is stale, "
                f"stored version is {stored}); reload it and try again",
                details={"id": task.id, "version": task.version, "stored_version": stored},
            )
        row = self._tx.freeze(rows.TASKS, task)
        changes = rows.updatable(row, "origin_key", "version")
        self._tx.change(self._table, task.id, **changes, version=stored + 1)
        task.version = stored + 1

    async def ready(
        self,
        limit: int = 100,
        *,
        roles: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        unexplained: bool = False,
    ) -> list[Task]:
        def takeable(r: Row) -> bool:
            if r["status"] != TaskStatus.TODO.value or r["assignee_agent_id"] is not None:
                return False
            if unexplained and r["waiting_reason"] is not None:
                return False
            if roles is None:
                return True
            if r["required_role"] is not None:
                return r["required_role"] in roles
            return r["type"] in (types or ()) or bool(json.loads(r["required_capabilities"]))

        found = self._tx.scan_index(self._table, "status", (TaskStatus.TODO.value,), takeable)
        found.sort(key=lambda r: (-r["priority"], r["created_at"], r["id"]))
        return thaw_all(rows.TASKS, found[: max(limit, 0)])

    async def dependants(self, task_id: str) -> list[Task]:
        found = self._tx.scan_index(self._table, "depends_on", (task_id,))
        found.sort(key=lambda r: (r["created_at"], r["id"]))
        return thaw_all(rows.TASKS, found)

    async def counts_by_status(self) -> dict[TaskStatus, int]:
        counts = dict.fromkeys(TaskStatus, 0)
        for row in self._tx.scan(self._table):
            counts[TaskStatus(row["status"])] += 1
        return counts

    def _row(self, task_id: str) -> Row:
        row = self._tx.mine(self._table.get(task_id))
        if row is None:
            raise NotFound("task", task_id)
        return row

    def _conditions(self, flt: TaskFilter) -> list[Callable[[Row], bool]]:
        equal = {
            "project_id": flt.project_id,
            "type": flt.type,
            "parent_id": flt.parent_id,
            "assignee_agent_id": flt.assignee_agent_id,
        }
        conditions = [_equals(k, v) for k, v in equal.items() if v is not None]
        if flt.statuses:
            statuses = {TaskStatus(s).value for s in flt.statuses}
            conditions.append(lambda r: r["status"] in statuses)
        if flt.role is not None:
            role = flt.role
            of_role = {r["id"] for r in self._tx.scan(self._tx.state.agents) if r["role"] == role}
            conditions.append(
                lambda r: r["required_role"] == role or r["assignee_agent_id"] in of_role
            )
        if flt.text:
            text = flt.text.lower()
            conditions.append(
                lambda r: text in r["title"].lower() or text in r["description"].lower()
            )
        return conditions

    async def list(self, flt: TaskFilter = _ALL_TASKS, page: Page = _FIRST_PAGE) -> list[Task]:
        conditions = self._conditions(flt)
        if flt.statuses:
            statuses = {TaskStatus(s).value for s in flt.statuses}
            found = self._tx.scan_index(self._table, "status", statuses, *conditions)
        else:
            found = self._tx.scan(self._table, *conditions)
        return thaw_all(rows.TASKS, self._tx.newest_first(self._table, found, page))


class MemoryRunRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.runs

    async def add(self, run: Run) -> None:
        row = self._tx.freeze(rows.RUNS, run)
        if run.id in self._table:
            raise Conflict(f"run {run.id!r} already exists")
        self._tx.put(self._table, run.id, {**row, "checkpoint": None})

    async def get(self, run_id: str) -> Run:
        return thaw(rows.RUNS, self._row(run_id))

    async def claim(
        self, run_id: str, *, owner: str, now: datetime, lease_until: datetime
    ) -> Run | None:
        row = self._tx.mine(self._table.get(run_id))
        if row is None or not _claimable(row, as_utc(now)):
            return None
        self._tx.change(
            self._table,
            run_id,
            status=RunStatus.RUNNING.value,
            attempt=row["attempt"] + 1,
            lease_owner=owner,
            lease_expires_at=as_utc(lease_until),
            started_at=row["started_at"] or as_utc(now),
        )
        return thaw(rows.RUNS, self._table[run_id])

    async def renew(self, run_id: str, *, attempt: int, owner: str, lease_until: datetime) -> bool:
        row = self._tx.mine(self._table.get(run_id))
        held = (
            row is not None
            and row["attempt"] == attempt
            and row["lease_owner"] == owner
            and row["status"] == RunStatus.RUNNING.value
        )
        if held:
            self._tx.change(self._table, run_id, lease_expires_at=as_utc(lease_until))
        return held

    async def save(self, run: Run, *, checkpoint: bytes | None = None) -> None:
        stored = self._row(run.id)
        if stored["attempt"] != run.attempt:
            raise StaleAttempt(
                f"run {run.id!r}: attempt {run.attempt} was superseded by attempt "
                f"{stored['attempt']}",
                details={"id": run.id, "attempt": run.attempt, "stored_attempt": stored["attempt"]},
            )
        row = self._tx.freeze(rows.RUNS, run)
        changes = rows.updatable(row, "attempt", "stop_requested")
        # Sticky, as in the SQL adapter: a save never clears a stop request.
        changes["stop_requested"] = stored["stop_requested"] or run.stop_requested
        if checkpoint is not None:
            changes["checkpoint"] = bytes(checkpoint)
        self._tx.change(self._table, run.id, **changes)
        run.stop_requested = changes["stop_requested"]

    async def checkpoint(self, run_id: str) -> bytes | None:
        row = self._tx.mine(self._table.get(run_id))
        return None if row is None else row["checkpoint"]

    async def expired(self, now: datetime, limit: int = 100) -> list[Run]:
        now = as_utc(now)
        found = self._tx.scan_index(
            self._table,
            "status",
            (RunStatus.RUNNING.value,),
            lambda r: r["lease_expires_at"] is not None and r["lease_expires_at"] < now,
        )
        found.sort(key=lambda r: (r["lease_expires_at"], r["id"]))
        return thaw_all(rows.RUNS, found[: max(limit, 0)])

    async def waiting(self, before: datetime, limit: int = 100) -> list[Run]:
        before = as_utc(before)
        found = self._tx.scan_index(
            self._table,
            "status",
            (RunStatus.PENDING.value,),
            lambda r: r["created_at"] < before,
        )
        found.sort(key=lambda r: (r["created_at"], r["id"]))
        return thaw_all(rows.RUNS, found[: max(limit, 0)])

    async def active_count(self, agent_id: str) -> int:
        return len(
            self._tx.scan_index(
                self._table, "status", _HOLDS_SLOT, lambda r: r["agent_id"] == agent_id
            )
        )

    def _row(self, run_id: str) -> Row:
        row = self._tx.mine(self._table.get(run_id))
        if row is None:
            raise NotFound("run", run_id)
        return row

    async def list(
        self,
        *,
        task_id: str | None = None,
        statuses: Sequence[RunStatus] = (),
        agent_id: str | None = None,
        page: Page = _FIRST_PAGE,
    ) -> list[Run]:
        wanted = {RunStatus(s).value for s in statuses}
        where = (
            lambda r: task_id in (None, r["task_id"]),
            lambda r: agent_id in (None, r["agent_id"]),
            lambda r: not wanted or r["status"] in wanted,
        )
        if task_id is not None:
            found = self._tx.scan_index(self._table, "task_id", (task_id,), *where)
        elif agent_id is not None:
            found = self._tx.scan_index(self._table, "agent_id", (agent_id,), *where)
        else:
            found = self._tx.scan(self._table, *where)
        return thaw_all(rows.RUNS, self._tx.newest_first(self._table, found, page))


def _equals(column: str, value: object) -> Callable[[Row], bool]:
    return lambda r: r[column] == value


def _claimable(row: Row, now: datetime) -> bool:
    if row["status"] == RunStatus.PENDING.value:
        return True
    lease = row["lease_expires_at"]
    return row["status"] == RunStatus.RUNNING.value and lease is not None and lease < now


class MemoryEventRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._runs = tx.state.events

    async def append(self, events: Sequence[RunEvent]) -> None:
        keys = [(e.run_id, e.seq) for e in events]
        if len(set(keys)) != len(keys):
            raise Conflict("the same (run_id, seq) appears twice in one append")
        batch = [self._tx.freeze(rows.EVENTS, e) for e in events]
        taken = sorted(k for k in keys if k[1] in self._runs.get(k[0], {}))
        if taken:
            raise Conflict(
                f"run events already exist: {', '.join(f'{r}#{s}' for r, s in taken)}",
                details=[{"run_id": r, "seq": s} for r, s in taken],
            )
        for row in batch:
            self._tx.put(self._runs.setdefault(row["run_id"], {}), row["seq"], row)

    async def list(self, run_id: str, *, after: int = 0, limit: int = 1000) -> list[RunEvent]:
        found = self._tx.scan(self._runs.get(run_id, {}), lambda r: r["seq"] > after)
        found.sort(key=lambda r: r["seq"])
        return thaw_all(rows.EVENTS, found[: max(limit, 0)])

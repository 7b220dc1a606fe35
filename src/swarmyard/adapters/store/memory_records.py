"""In-memory repositories of learning history and profiles, schedules,
idempotency keys and the outbox (the counterparts of `sql_records.py`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from swarmyard.domain import Conflict, Execution, LearningProfile, NotFound, Schedule
from swarmyard.ports import IdempotentResponse, OutboxMessage

from . import rows
from .memory_base import MemoryTx, thaw, thaw_all
from .rows import Row, as_utc

__all__ = [
    "MemoryIdempotencyRepo",
    "MemoryLearningRepo",
    "MemoryOutboxRepo",
    "MemoryScheduleRepo",
]


class MemoryLearningRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._executions = tx.state.executions
        self._profiles = tx.state.profiles

    async def add_execution(self, execution: Execution) -> None:
        row = self._tx.freeze(rows.EXECUTIONS, execution)
        key = self._tx.state.next_execution_id
        self._tx.put(self._executions, key, {**row, "id": key})
        self._tx.state.next_execution_id += 1

    async def executions(
        self,
        agent_id: str,
        *,
        task_type: str | None = None,
        since: datetime | None = None,
        limit: int = 500,
    ) -> list[Execution]:
        start = None if since is None else as_utc(since)
        self._tx.check()
        found: list[Row] = []
        # Newest first through the (agent, finished_at) index: stops at the
        # window's start or the limit, as the SQL index scan does.
        for r in self._executions.rows_descending("agent_newest", agent_id):
            if len(found) >= limit or (start is not None and r["finished_at"] < start):
                break
            if r["workspace_id"] == self._tx.workspace_id and task_type in (None, r["task_type"]):
                found.append(r)
        return thaw_all(rows.EXECUTIONS, found)

    async def save_profile(self, profile: LearningProfile) -> None:
        row = self._tx.freeze(rows.PROFILES, profile)
        key = (self._tx.workspace_id, profile.agent_id, profile.task_type)
        self._tx.put(self._profiles, key, row)

    async def profiles(
        self, agent_ids: Sequence[str], task_types: Sequence[str] | None = None
    ) -> list[LearningProfile]:
        agents = set(agent_ids)
        types = None if task_types is None else set(task_types)
        found = self._tx.scan(
            self._profiles,
            lambda r: r["agent_id"] in agents,
            lambda r: types is None or r["task_type"] in types,
        )
        found.sort(key=lambda r: (r["agent_id"], r["task_type"]))
        return thaw_all(rows.PROFILES, found)


class MemoryScheduleRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.schedules

    async def add(self, schedule: Schedule) -> None:
        row = self._tx.freeze(rows.SCHEDULES, schedule)
        if schedule.id in self._table:
            raise Conflict(f"schedule {schedule.id!r} already exists")
        self._tx.put(self._table, schedule.id, row)

    async def get(self, schedule_id: str) -> Schedule:
        return thaw(rows.SCHEDULES, self._row(schedule_id))

    async def update(self, schedule: Schedule, *, only: Collection[str] | None = None) -> None:
        self._row(schedule.id)
        row = self._tx.freeze(rows.SCHEDULES, schedule)
        fixed = ("id", "workspace_id", "created_at")
        changed = {k: v for k, v in row.items() if k not in fixed and (only is None or k in only)}
        self._tx.change(self._table, schedule.id, **changed)

    async def delete(self, schedule_id: str) -> None:
        self._row(schedule_id)
        self._tx.remove(self._table, schedule_id)

    async def due(self, now: datetime) -> list[Schedule]:
        now = as_utc(now)
        found = self._tx.scan(self._table, lambda r: r["enabled"] and r["next_run_at"] <= now)
        found.sort(key=lambda r: (r["next_run_at"], r["id"]))
        return thaw_all(rows.SCHEDULES, found)

    def _row(self, schedule_id: str) -> Row:
        row = self._tx.mine(self._table.get(schedule_id))
        if row is None:
            raise NotFound("schedule", schedule_id)
        return row

    async def list(self) -> list[Schedule]:
        found = self._tx.scan(self._table)
        found.sort(key=lambda r: (r["created_at"], r["id"]))
        return thaw_all(rows.SCHEDULES, found)


class MemoryIdempotencyRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.idempotency

    async def get(self, key: str) -> IdempotentResponse | None:
        row = self._tx.mine(self._table.get((self._tx.workspace_id, key)))
        return None if row is None else thaw(rows.IDEMPOTENCY, row)

    async def put(self, response: IdempotentResponse) -> None:
        row = self._tx.freeze(rows.IDEMPOTENCY, response)
        key = (self._tx.workspace_id, response.key)
        if key in self._table:
            raise Conflict(
                f"idempotency key {response.key!r} is already used",
                details={"key": response.key},
            )
        self._tx.put(self._table, key, {**row, "body": bytes(response.body)})


class MemoryOutboxRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.outbox

    async def add(self, message: OutboxMessage) -> None:
        row = self._tx.freeze(rows.OUTBOX, message)
        if message.id in self._table:
            raise Conflict(f"outbox message {message.id!r} already exists")
        self._tx.put(self._table, message.id, {**row, "data": bytes(message.data)})

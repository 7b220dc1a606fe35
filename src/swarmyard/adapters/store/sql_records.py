"""SQL repositories of the supporting records: learning history and
profiles, schedules, idempotency keys and the outbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from swarmyard.domain import Conflict, Execution, LearningProfile, NotFound, Schedule
from swarmyard.ports import IdempotentResponse, OutboxMessage

from . import rows
from .sql_base import SqlTx
from .tables import executions, idempotency_keys, learning_profiles, outbox, schedules

__all__ = ["SqlIdempotencyRepo", "SqlLearningRepo", "SqlOutboxRepo", "SqlScheduleRepo"]


class SqlLearningRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add_execution(self, execution: Execution) -> None:
        row = rows.owned_row(rows.EXECUTIONS, execution, self._tx.workspace_id)
        await self._tx.execute(executions.insert().values(row))

    async def executions(
        self,
        agent_id: str,
        *,
        task_type: str | None = None,
        since: datetime | None = None,
        limit: int = 500,
    ) -> list[Execution]:
        c = executions.c
        query = select(executions).where(self._tx.scoped(executions), c.agent_id == agent_id)
        if task_type is not None:
            query = query.where(c.task_type == task_type)
        if since is not None:
            query = query.where(c.finished_at >= since)
        query = query.order_by(c.finished_at.desc(), c.id.desc()).limit(limit)
        return [rows.EXECUTIONS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def save_profile(self, profile: LearningProfile) -> None:
        row = rows.owned_row(rows.PROFILES, profile, self._tx.workspace_id)
        await self._tx.upsert(learning_profiles, row)

    async def profiles(
        self, agent_ids: Sequence[str], task_types: Sequence[str] | None = None
    ) -> list[LearningProfile]:
        if not agent_ids or (task_types is not None and not task_types):
            return []
        c = learning_profiles.c
        query = select(learning_profiles).where(
            self._tx.scoped(learning_profiles), c.agent_id.in_(agent_ids)
        )
        if task_types is not None:
            query = query.where(c.task_type.in_(task_types))
        query = query.order_by(c.agent_id, c.task_type)
        return [rows.PROFILES.decode(r) for r in (await self._tx.execute(query)).mappings()]


class SqlScheduleRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, schedule: Schedule) -> None:
        row = rows.owned_row(rows.SCHEDULES, schedule, self._tx.workspace_id)
        if not await self._tx.insert_new(schedules, row):
            raise Conflict(f"schedule {schedule.id!r} already exists")

    async def get(self, schedule_id: str) -> Schedule:
        found = await self._fetch(schedules.c.id == schedule_id)
        if not found:
            raise NotFound("schedule", schedule_id)
        return found[0]

    async def update(self, schedule: Schedule, *, only: Collection[str] | None = None) -> None:
        fixed = ("id", "workspace_id", "created_at")
        values = {
            k: v
            for k, v in rows.SCHEDULES.encode(schedule).items()
            if k not in fixed and (only is None or k in only)
        }
        statement = (
            update(schedules)
            .where(self._tx.scoped(schedules), schedules.c.id == schedule.id)
            .values(values)
        )
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("schedule", schedule.id)

    async def delete(self, schedule_id: str) -> None:
        statement = delete(schedules).where(
            self._tx.scoped(schedules), schedules.c.id == schedule_id
        )
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("schedule", schedule_id)

    async def due(self, now: datetime) -> list[Schedule]:
        return await self._fetch(
            schedules.c.enabled.is_(True),
            schedules.c.next_run_at <= now,
            order=(schedules.c.next_run_at, schedules.c.id),
        )

    async def _fetch(self, *where: Any, order: Sequence[Any] = ()) -> list[Schedule]:
        query = select(schedules).where(self._tx.scoped(schedules), *where).order_by(*order)
        return [rows.SCHEDULES.decode(r) for r in (await self._tx.execute(query)).mappings()]

    async def list(self) -> list[Schedule]:
        return await self._fetch(order=(schedules.c.created_at, schedules.c.id))


class SqlIdempotencyRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def get(self, key: str) -> IdempotentResponse | None:
        query = select(idempotency_keys).where(
            self._tx.scoped(idempotency_keys), idempotency_keys.c.key == key
        )
        row = (await self._tx.execute(query)).mappings().first()
        return None if row is None else rows.IDEMPOTENCY.decode(row)

    async def put(self, response: IdempotentResponse) -> None:
        row = rows.owned_row(rows.IDEMPOTENCY, response, self._tx.workspace_id)
        if not await self._tx.insert_new(idempotency_keys, row):
            raise Conflict(
                f"idempotency key {response.key!r} is already used",
                details={"key": response.key},
            )


class SqlOutboxRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, message: OutboxMessage) -> None:
        row = rows.owned_row(rows.OUTBOX, message, self._tx.workspace_id)
        if not await self._tx.insert_new(outbox, row):
            raise Conflict(f"outbox message {message.id!r} already exists")

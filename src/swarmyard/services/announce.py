"""Writing bus messages through the outbox.

A state change and the message announcing it are written in one
transaction; `Announcer` adds the outbox rows to the unit of work and
remembers them so the caller can hand them to the relay right after
commit (the fast path; the relay's sweep is the safety net). Run events
are the exception: their own rows are the record (see `run_events`).
"""

from __future__ import annotations

import json
from typing import Any

from ..domain import Clock, IdSource, Run, RunEvent, Task, subjects
from ..ports import OutboxMessage, UnitOfWork
from .views import task_view

__all__ = ["Announcer", "dumps"]


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=str).encode()


class Announcer:
    def __init__(self, uow: UnitOfWork, clock: Clock, ids: IdSource) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self.messages: list[OutboxMessage] = []

    async def _add(
        self, subject: str, data: bytes, *, work_queue: bool = False, msg_id: str | None = None
    ) -> None:
        msg = OutboxMessage(
            id=msg_id or self._ids.new("msg"),
            workspace_id=self._uow.workspace_id,
            subject=subject,
            data=data,
            created_at=self._clock.now(),
            work_queue=work_queue,
        )
        await self._uow.outbox.add(msg)
        self.messages.append(msg)

    async def task_changed(self, task: Task, *, previous: str | None = None) -> None:
        body = {"kind": "task", "task": task_view(task), "previous_status": previous}
        await self._add(subjects.board(self._uow.workspace_id), dumps(body))

    async def board_notice(self, kind: str, data: dict[str, Any]) -> None:
        await self._add(subjects.board(self._uow.workspace_id), dumps({"kind": kind, **data}))

    async def run_events(self, events: list[RunEvent]) -> None:
        """Announce stored run events. They get no outbox row of their own: the
        event rows written in the same transaction are the durable record, and
        a stream that misses a publication (a process died after commit)
        reads the gap from them. That halves the rows a step writes."""
        ws = self._uow.workspace_id
        now = self._clock.now()
        self.messages += [
            OutboxMessage(
                id=self._ids.new("msg"),
                workspace_id=ws,
                subject=subjects.run_events(ws, ev.run_id),
                data=dumps(ev.as_dict()),
                created_at=now,
                stored=False,
            )
            for ev in events
        ]

    async def run_control(self, run_id: str, command: dict[str, Any]) -> None:
        await self._add(subjects.run_control(self._uow.workspace_id, run_id), dumps(command))

    async def dispatch(self, run: Run) -> None:
        """Put the run on its role's work queue (deduplicated per attempt)."""
        body = {"workspace_id": run.workspace_id, "run_id": run.id, "task_id": run.task_id}
        await self._add(
            subjects.tasks_ready(self._uow.workspace_id, run.role),
            dumps(body),
            work_queue=True,
            msg_id=self._ids.new("dispatch"),
        )

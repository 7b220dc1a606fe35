"""Use cases of runs: read them, read their events, stop them."""

from __future__ import annotations

from datetime import datetime

from ..domain import ApprovalStatus, EventType, Run, RunEvent, RunStatus, TaskStatus
from ..ports import Page, UnitOfWork
from .announce import Announcer
from .deps import Deps

__all__ = ["RunService", "request_stop"]


async def request_stop(
    uow: UnitOfWork, ann: Announcer, run: Run, now: datetime, *, reason: str
) -> Run:
    """Stop a run: a pending or parked one at once, a running one between its steps.

    The worker holding a running run learns of it from the control subject
    (immediately) or from the stored flag (at its next step), whichever
    comes first; it then cancels its in-flight model call.
    """
    if run.status in (RunStatus.PENDING, RunStatus.AWAITING_APPROVAL):
        # No worker holds either: nobody else would write the stop.
        run.stop_requested = True
        parked = run.status is RunStatus.AWAITING_APPROVAL
        run.error = reason
        run.move(RunStatus.STOPPED, now=now)
        event = RunEvent(
            run.id,
            run.workspace_id,
            run.next_seq,
            EventType.STOPPED,
            now,
            {"reason": reason},
            task_id=run.task_id,
        )
        run.next_seq += 1
        await uow.runs.save(run)
        await uow.agents.release_slot(run.agent_id)
        await uow.events.append([event])
        await ann.run_events([event])
        if parked:
            await _end_waiting(uow, ann, run, now, reason=reason)
    elif run.status is RunStatus.RUNNING and not run.stop_requested:
        run.stop_requested = True
        await uow.runs.save(run)
        await ann.board_notice("run_stop", {"run_id": run.id, "reason": reason})
        await ann.run_control(run.id, {"command": "stop", "reason": reason})
    return run


async def _end_waiting(
    uow: UnitOfWork, ann: Announcer, run: Run, now: datetime, *, reason: str
) -> None:
    """A run stopped while it waited for approval: its requests are closed and
    its card is blocked, as for a run stopped by its worker."""
    for approval in await uow.approvals.list(run_id=run.id, status=ApprovalStatus.PENDING):
        approval.decide(ApprovalStatus.REJECTED, by="system", at=now, comment=reason)
        await uow.approvals.decide(approval)
    task = await uow.tasks.get(run.task_id)
    if task.status is TaskStatus.IN_PROGRESS and task.assignee_agent_id == run.agent_id:
        task.move(TaskStatus.BLOCKED, now=now)
        task.waiting_reason = f"run {run.id} was stopped; move the card to todo to retry"
        await uow.tasks.update(task)
        await ann.task_changed(task, previous=TaskStatus.IN_PROGRESS.value)


class RunService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    async def get(self, workspace_id: str, run_id: str) -> Run:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.runs.get(run_id)

    async def for_task(self, workspace_id: str, task_id: str) -> list[Run]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.tasks.get(task_id)
            return await uow.runs.list(task_id=task_id, page=Page(limit=200))

    async def events(
        self, workspace_id: str, run_id: str, *, after: int = 0, limit: int = 1000
    ) -> list[RunEvent]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.runs.get(run_id)  # 404 for an unknown (or foreign) run
            return await uow.events.list(run_id, after=after, limit=limit)

    async def stop(
        self, workspace_id: str, run_id: str, *, reason: str = "stopped on request"
    ) -> Run:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            run = await uow.runs.get(run_id)
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await request_stop(uow, ann, run, self._d.clock.now(), reason=reason)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return run

"""Human approval of held-back tool calls.

A run whose tool call needs approval is parked (`awaiting_approval`): no
worker holds it, its checkpoint ends with the tool call, and the request is
a row of its own. Nothing of this lives in a process, so a restart while it
waits changes nothing. A decision (or the deadline passing) puts the run
back to pending and on its role's work queue; the worker that takes it up
resumes from the checkpoint, finds the decision by the tool call's id, and
calls the tool or tells the model it was refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain import (
    Approval,
    ApprovalStatus,
    Conflict,
    EventType,
    Run,
    RunEvent,
    RunStatus,
    Task,
    TaskStatus,
)
from ..ports import UnitOfWork
from .announce import Announcer
from .deps import Deps

__all__ = ["ApprovalService", "Decision", "resume_decided", "waiting_text"]

MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class Decision:
    approve: bool
    comment: str = ""


def waiting_text(approval: Approval) -> str:
    return f"run {approval.run_id} awaits approval of {approval.tool}: {approval.reason}"


async def resume_decided(
    uow: UnitOfWork, ann: Announcer, run: Run, task: Task, approval: Approval, *, now: datetime
) -> None:
    """Record the decision in the run's log and put the run back to pending."""
    event = RunEvent(
        run.id,
        run.workspace_id,
        run.next_seq,
        EventType.APPROVAL_DECIDED,
        now,
        {
            "approval_id": approval.id,
            "tool": approval.tool,
            "call_id": approval.call_id,
            "status": approval.status.value,
            "by": approval.decided_by,
            "comment": approval.comment,
        },
        task_id=run.task_id,
    )
    run.next_seq += 1
    run.move(RunStatus.PENDING, now=now)
    run.lease_owner, run.lease_expires_at = None, None
    await uow.runs.save(run)
    await uow.events.append([event])
    await ann.run_events([event])
    if task.status is TaskStatus.IN_PROGRESS and task.waiting_reason:
        task.waiting_reason = None
        await uow.tasks.update(task)
        await ann.task_changed(task)
    await ann.dispatch(run)


class ApprovalService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    async def list(
        self,
        workspace_id: str,
        *,
        status: ApprovalStatus | None = None,
        run_id: str | None = None,
        limit: int = 100,
    ) -> list[Approval]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.approvals.list(status=status, run_id=run_id, limit=limit)

    async def get(self, workspace_id: str, approval_id: str) -> Approval:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.approvals.get(approval_id)

    async def decide(
        self, workspace_id: str, approval_id: str, decision: Decision, *, by: str
    ) -> Approval:
        """Approve or reject once; a second decision is a 409 naming the first."""
        now = self._d.clock.now()
        async with self._d.store.unit_of_work(workspace_id) as uow:
            approval = await uow.approvals.get(approval_id)
            if approval.status.is_decided:
                raise _decided(approval)
            target = ApprovalStatus.APPROVED if decision.approve else ApprovalStatus.REJECTED
            approval.decide(target, by=by, at=now, comment=decision.comment[:MAX_COMMENT])
            if not await uow.approvals.decide(approval):
                raise _decided(await uow.approvals.get(approval_id))
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await self._wake(uow, ann, approval, now)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return approval

    async def expire_overdue(self) -> int:
        """Decide every request past its deadline as expired (a rejection);
        the runs go on without the tool. Returns how many expired."""
        now = self._d.clock.now()
        count = 0
        for ws in await self._d.store.list_workspaces():
            async with self._d.store.unit_of_work(ws.id) as uow:
                overdue = await uow.approvals.overdue(now)
            for approval in overdue:
                async with self._d.store.unit_of_work(ws.id) as uow:
                    approval.decide(
                        ApprovalStatus.EXPIRED,
                        by="system",
                        at=now,
                        comment="nobody decided before the deadline",
                    )
                    if not await uow.approvals.decide(approval):
                        continue  # decided by a person meanwhile
                    ann = Announcer(uow, self._d.clock, self._d.ids)
                    await self._wake(uow, ann, approval, now)
                    await uow.commit()
                self._d.outbox.submit(ann.messages)
                count += 1
        return count

    async def _wake(
        self, uow: UnitOfWork, ann: Announcer, approval: Approval, now: datetime
    ) -> None:
        run = await uow.runs.get(approval.run_id)
        await ann.board_notice(
            "approval", {"approval_id": approval.id, "status": approval.status.value}
        )
        if run.status is not RunStatus.AWAITING_APPROVAL:
            return  # stopped meanwhile: the decision is kept, nothing waits for it
        task = await uow.tasks.get(run.task_id)
        await resume_decided(uow, ann, run, task, approval, now=now)


def _decided(approval: Approval) -> Conflict:
    return Conflict(
        f"approval {approval.id} was already {approval.status.value}"
        + (f" by {approval.decided_by}" if approval.decided_by else ""),
        details={"status": approval.status.value, "decided_by": approval.decided_by},
    )

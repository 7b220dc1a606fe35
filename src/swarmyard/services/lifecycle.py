"""A run's life as workers see it: claim, record each step, finish.

Every write is fenced by the run's attempt number: a worker that lost its
lease (it stalled, or was presumed dead and the run was resumed elsewhere)
gets `StaleAttempt` on its next write and must drop the run. A step's
events and the checkpoint of the conversation are written in one
transaction, so a resumed run continues exactly after its last recorded
step and never repeats an event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain import (
    AgentManifest,
    Approval,
    EventType,
    Execution,
    NotFound,
    Run,
    RunEvent,
    RunStatus,
    Task,
    TaskStatus,
)
from ..domain.policy import ToolDecision
from ..ports import IdempotentResponse, ToolCost, UnitOfWork
from .announce import Announcer
from .approvals import resume_decided, waiting_text
from .catalog import CatalogService
from .deps import Deps
from .learning import record_execution

__all__ = ["Claimed", "Lifecycle", "Outcome"]


@dataclass(slots=True)
class Claimed:
    run: Run
    task: Task
    manifest: AgentManifest
    checkpoint: bytes | None
    resumed: bool
    # The task's project working directory (Project.workdir), where the
    # file, git and command tools act; None when the task has none.
    workdir: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    status: RunStatus
    output: str | None = None
    error: str | None = None


class Lifecycle:
    def __init__(self, deps: Deps, catalog: CatalogService, *, lease_seconds: float) -> None:
        self._d = deps
        self._catalog = catalog
        self.lease = timedelta(seconds=lease_seconds)

    def event(self, run: Run, type_: EventType, payload: dict[str, Any]) -> RunEvent:
        """The run's next event (not yet stored: pass it to `record`/`finish`)."""
        ev = RunEvent(
            run.id,
            run.workspace_id,
            run.next_seq,
            type_,
            self._d.clock.now(),
            payload,
            task_id=run.task_id,
        )
        run.next_seq += 1
        return ev

    def elapsed(self, run: Run) -> float:
        """Seconds since the run first started (0 before it has)."""
        if run.started_at is None:
            return 0.0
        return (self._d.clock.now() - run.started_at).total_seconds()

    @staticmethod
    async def _workdir(uow: UnitOfWork, task: Task) -> str | None:
        if task.project_id is None:
            return None
        try:
            return (await uow.projects.get(task.project_id)).workdir
        except NotFound:  # the project was deleted under the task
            return None

    async def claim(self, workspace_id: str, run_id: str, owner: str) -> Claimed | None:
        now = self._d.clock.now()
        async with self._d.store.unit_of_work(workspace_id) as uow:
            run = await uow.runs.claim(run_id, owner=owner, now=now, lease_until=now + self.lease)
            if run is None:
                return None
            task = await uow.tasks.get(run.task_id)
            agent = await uow.agents.get(run.agent_id)
            manifest = await self._catalog.get(uow, agent.manifest_id, agent.manifest_version)
            resumed = run.attempt > 1
            # Only an attempt after the first can have left a checkpoint.
            checkpoint = await uow.runs.checkpoint(run.id) if resumed else None
            workdir = await self._workdir(uow, task)
            if resumed:
                ev = self.event(
                    run,
                    EventType.PROGRESS,
                    {"resumed": True, "attempt": run.attempt, "from_step": run.steps},
                )
            else:
                ev = self.event(
                    run,
                    EventType.STARTED,
                    {
                        "agent_id": agent.id,
                        "agent": agent.name,
                        "role": run.role,
                        "assignment": run.assignment,
                    },
                )
            await uow.runs.save(run)
            await uow.events.append([ev])
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await ann.run_events([ev])
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return Claimed(run, task, manifest, checkpoint, resumed, workdir)

    async def renew(self, run: Run, owner: str) -> bool:
        """Extend the lease; False when the run was taken over (fenced)."""
        return await self._lease_until(run, owner, self._d.clock.now() + self.lease)

    async def hand_back(self, run: Run, owner: str) -> bool:
        """End our lease now (shutting down): the run may be claimed at once."""
        return await self._lease_until(run, owner, self._d.clock.now())

    async def _lease_until(self, run: Run, owner: str, until: datetime) -> bool:
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            ok = await uow.runs.renew(run.id, attempt=run.attempt, owner=owner, lease_until=until)
            await uow.commit()
        if ok:
            run.lease_expires_at = until
        return ok

    async def record(self, run: Run, events: list[RunEvent], checkpoint: bytes | None) -> None:
        """One step: the run's counters, its new events and the checkpoint, atomically."""
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            await uow.runs.save(run, checkpoint=checkpoint)
            await uow.events.append(events)
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await ann.run_events(events)
            await uow.commit()
        self._d.outbox.submit(ann.messages)

    async def tool_result(self, run: Run, call_id: str) -> tuple[bool, str, ToolCost | None] | None:
        """What a side-effecting tool call of this run answered, if it already
        ran, and what it spent for the run then (None: nothing)."""
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            kept = await uow.idempotency.get(_tool_key(run, call_id))
        if kept is None:
            return None
        body = json.loads(kept.body)
        cost = body.get("cost")
        spent = None if not isinstance(cost, dict) else ToolCost(**cost)
        return bool(body["ok"]), str(body["content"]), spent

    async def keep_tool_result(
        self,
        run: Run,
        call_id: str,
        tool: str,
        ok: bool,
        content: str,
        *,
        spent: Sequence[ToolCost] = (),
    ) -> None:
        """Journal the answer of a side-effecting call the moment it returns,
        apart from the step: a worker that dies before the step is stored
        leaves the answer here, and the resumed run takes it instead of
        calling the tool again. The key is unique: stored once. What the call
        spent is kept with it: the step that would have added it to the run
        was never stored, so the resumed run adds it from here."""
        kept: dict[str, object] = {"ok": ok, "content": content}
        if spent:
            kept["cost"] = asdict(ToolCost.total(spent))
        body = json.dumps(kept).encode()
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            if await uow.idempotency.get(_tool_key(run, call_id)) is None:
                await uow.idempotency.put(
                    IdempotentResponse(
                        _tool_key(run, call_id), tool, 200, body, self._d.clock.now()
                    )
                )
                await uow.commit()

    async def approval_for(self, run: Run, call_id: str) -> Approval | None:
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            return await uow.approvals.for_call(run.id, call_id)

    def new_approval(
        self,
        run: Run,
        call_id: str,
        tool: str,
        args: dict[str, Any],
        decision: ToolDecision,
        *,
        timeout_seconds: int,
    ) -> Approval:
        now = self._d.clock.now()
        return Approval(
            id=self._d.ids.new("appr"),
            workspace_id=run.workspace_id,
            run_id=run.id,
            task_id=run.task_id,
            call_id=call_id,
            tool=tool,
            rule=decision.rule,
            reason=decision.reason,
            requested_at=now,
            deadline=now + timedelta(seconds=timeout_seconds),
            args=args,
            role=run.role,
        )

    async def park(
        self, run: Run, approval: Approval, events: list[RunEvent], checkpoint: bytes
    ) -> Approval:
        """Leave the run waiting for a person: the request stored (or the one
        already made for this tool call found), the run parked with its
        checkpoint, the card saying why. No lease is kept; the agent's slot is."""
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            stored = await uow.approvals.add(approval)
            ann = Announcer(uow, self._d.clock, self._d.ids)
            now = self._d.clock.now()
            run.move(RunStatus.AWAITING_APPROVAL, now=now)
            run.lease_owner, run.lease_expires_at = None, None
            await uow.runs.save(run, checkpoint=checkpoint)
            await uow.events.append(events)
            await ann.run_events(events)
            task = await uow.tasks.get(run.task_id)
            if stored.status.is_decided:
                # Decided before this attempt parked (a resumed run asking
                # again): no need to wait, back to pending at once.
                await resume_decided(uow, ann, run, task, stored, now=now)
            elif task.status is TaskStatus.IN_PROGRESS:
                task.waiting_reason = waiting_text(stored)
                await uow.tasks.update(task)
                await ann.task_changed(task)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return stored

    async def finish(
        self, run: Run, outcome: Outcome, events: list[RunEvent], checkpoint: bytes | None = None
    ) -> Task:
        now = self._d.clock.now()
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            stored = await uow.runs.get(run.id)
            run.stop_requested = run.stop_requested or stored.stop_requested
            run.output, run.error = outcome.output, outcome.error
            run.move(outcome.status, now=now)
            await uow.runs.save(run, checkpoint=checkpoint)
            await uow.events.append(events)
            await uow.agents.release_slot(run.agent_id)
            succeeded = outcome.status is RunStatus.SUCCEEDED
            await uow.agents.add_usage(
                run.agent_id,
                succeeded=int(succeeded),
                failed=int(outcome.status in (RunStatus.FAILED, RunStatus.TIMED_OUT)),
                tokens_in=run.tokens_in,
                tokens_out=run.tokens_out,
                cost_microusd=run.cost_microusd,
                errors=int(not succeeded and outcome.status is not RunStatus.STOPPED),
            )
            task = await uow.tasks.get(run.task_id)
            if outcome.status is not RunStatus.STOPPED:
                started = run.started_at or run.created_at
                await record_execution(
                    uow,
                    Execution(
                        run.agent_id,
                        task.type,
                        now,
                        succeeded,
                        (now - started).total_seconds(),
                        run.cost_microusd,
                    ),
                )
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await ann.run_events(events)
            await self._settle_task(uow, ann, task, run, outcome)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return task

    async def _settle_task(
        self, uow: UnitOfWork, ann: Announcer, task: Task, run: Run, outcome: Outcome
    ) -> None:
        now = self._d.clock.now()
        await self._add_usage(uow, ann, task, run)
        if task.status is not TaskStatus.IN_PROGRESS or task.assignee_agent_id != run.agent_id:
            # Cancelled or moved meanwhile: the card already says what happened.
            if run.cost_microusd:
                await uow.tasks.update(task)
                await ann.task_changed(task)
            return
        previous = task.status
        if outcome.status is RunStatus.SUCCEEDED:
            task.result = outcome.output
            task.move(TaskStatus.REVIEW, now=now)
            if not task.review_required:
                task.move(TaskStatus.DONE, now=now)
        elif outcome.status is RunStatus.STOPPED:
            task.move(TaskStatus.BLOCKED, now=now)
            task.waiting_reason = f"run {run.id} was stopped; move the card to todo to retry"
        elif task.attempts < task.max_attempts:
            task.move(TaskStatus.TODO, now=now)
            task.assignee_agent_id = None
            task.waiting_reason = f"retrying after attempt {task.attempts} failed: {outcome.error}"
        else:
            task.move(TaskStatus.FAILED, now=now)
            task.result = outcome.error
            task.waiting_reason = None
        await uow.tasks.update(task)
        await ann.task_changed(task, previous=previous.value)

    async def _add_usage(self, uow: UnitOfWork, ann: Announcer, task: Task, run: Run) -> None:
        """A card's cost and tokens include its subtasks', so roll the run's up the tree."""
        if not (run.cost_microusd or run.tokens_in or run.tokens_out):
            return
        _charge(task, run)
        parent_id = task.parent_id
        while parent_id:
            parent = await uow.tasks.get(parent_id)
            _charge(parent, run)
            await uow.tasks.update(parent)
            await ann.task_changed(parent)
            parent_id = parent.parent_id


def _tool_key(run: Run, call_id: str) -> str:
    return f"tool:{run.id}:{call_id}"


def _charge(task: Task, run: Run) -> None:
    task.cost_microusd += run.cost_microusd
    task.tokens_in += run.tokens_in
    task.tokens_out += run.tokens_out

"""Workers: take runs off the work queues and drive them through the agent loop.

A work-queue message only says "run R wants a worker"; the database decides
who gets it (`Lifecycle.claim`), so a message delivered twice starts the
run once. The message is acked right after the claim: from then on the
run's lease, renewed while the run lives, is what keeps it owned, and the
recovery sweep re-dispatches it if the lease expires.

A worker serves several roles, each through its own durable consumer (see
`role_queues` for why one per role). One intake loop per role fetches work,
and all of them draw on the worker's `concurrency` slots (`slots`), so
together they never take more runs than there is room for. The worker also
answers the consultations of the roles it serves (`consult_responder`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json

import structlog

from ..domain import RunStatus, subjects
from ..ports import Bus, BusClosed, Consumer, Subscription, WorkItem
from ..services.lifecycle import Claimed, Lifecycle
from .agent_loop import AgentLoop, RunControl
from .consult_responder import Responder
from .role_queues import ACK_WAIT, MAX_DELIVER, RoleWatch, durable_of, filter_of
from .slots import Slots

__all__ = ["Worker"]

log = structlog.get_logger("swarmyard.worker")

RETRY_SECONDS = 2.0  # after the bus failed a consumer or a fetch


class Worker:
    def __init__(
        self,
        bus: Bus,
        lifecycle: Lifecycle,
        loop: AgentLoop,
        *,
        owner: str,
        concurrency: int,
        roles: RoleWatch,
        responder: Responder | None = None,
    ) -> None:
        self._bus = bus
        self._responder = responder
        self._life = lifecycle
        self._loop = loop
        self.owner = owner
        self._roles = roles
        self._intake: dict[str, asyncio.Task[None]] = {}
        self._consumers: dict[str, Consumer] = {}  # by role, while open
        self._slots = Slots(concurrency, lambda: len(self._intake))
        self._active: dict[str, asyncio.Task[None]] = {}
        self._runs: dict[str, Claimed] = {}
        self._stopping = asyncio.Event()

    @property
    def active_runs(self) -> int:
        return len(self._active)

    @property
    def serving(self) -> list[str]:
        """The roles whose queues this worker is consuming now."""
        return sorted(self._consumers)

    async def run(self) -> None:
        """Serve the roles `RoleWatch` names until `shutdown`."""
        try:
            await self._roles.watch(self._serve)
            await self._stopping.wait()
        except BusClosed:
            pass
        finally:
            if not self._stopping.is_set():  # cancelled without a shutdown
                for t in self._intake.values():
                    t.cancel()
            await asyncio.gather(*self._intake.values(), return_exceptions=True)

    def _serve(self, role: str) -> None:
        if role not in self._intake and not self._stopping.is_set():
            self._intake[role] = asyncio.create_task(self._consume(role), name=f"intake:{role}")

    async def _consume(self, role: str) -> None:
        consumer = await self._open_consumer(role)
        if consumer is None:
            return
        self._consumers[role] = consumer
        await self._answer(role)
        found = False
        try:
            while not self._stopping.is_set():
                found = await self._fetch_some(consumer, role, eager=found)
        except BusClosed:
            pass
        finally:
            del self._consumers[role]
            with contextlib.suppress(Exception):
                await consumer.close()

    async def _answer(self, role: str) -> None:
        """Answer the role's consultations too; a failure here costs the
        consultations of the role (askers time out), never its runs."""
        if self._responder is None:
            return
        try:
            await self._responder.serve(role)
        except BusClosed:
            pass
        except Exception:
            log.exception("cannot answer the consultations of a role", role=role)

    async def _open_consumer(self, role: str) -> Consumer | None:
        while not self._stopping.is_set():
            try:
                return await self._bus.consumer(
                    durable_of(role),
                    [filter_of(role)],
                    ack_wait=ACK_WAIT,
                    max_deliver=MAX_DELIVER,
                )
            except BusClosed:
                return None
            except Exception:
                log.exception("cannot open the work queue of a role; retrying", role=role)
                await self._pause(RETRY_SECONDS)
        return None

    async def _fetch_some(self, consumer: Consumer, role: str, *, eager: bool) -> bool:
        """Fetch and start what there is room for; whether work was found."""
        taken, wait = await self._slots.take(eager=eager)
        if not taken:
            return False  # stopping
        try:
            items = await consumer.fetch(batch=taken, timeout=wait)
        except BusClosed:
            self._slots.give_back(taken)
            raise
        except Exception:
            self._slots.give_back(taken)
            log.exception("fetching work failed; retrying", role=role)
            await self._pause(RETRY_SECONDS)
            return False
        self._slots.give_back(taken - len(items))
        for item in items:
            started = False
            try:
                if self._stopping.is_set():
                    await item.nak()  # stop claiming: another worker takes it now
                else:
                    started = await self._take(item)
            except Exception:
                log.exception("could not take a work item; it comes back", subject=item.subject)
            finally:
                if not started:
                    self._slots.give_back(1)
        return bool(items)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _take(self, item: WorkItem) -> bool:
        """Claim and start the item's run; whether a run started (and keeps its slot)."""
        try:
            body = json.loads(item.data)
            workspace_id, run_id = str(body["workspace_id"]), str(body["run_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("malformed work item dropped", subject=item.subject)
            await item.term()
            return False
        claimed = await self._life.claim(workspace_id, run_id, self.owner)
        await item.ack()
        if claimed is None:
            return False  # finished, or held by another worker: the database has the say
        task = asyncio.create_task(self._drive(claimed), name=f"run:{run_id}")
        self._active[run_id] = task
        self._runs[run_id] = claimed
        task.add_done_callback(functools.partial(self._done, run_id))
        return True

    def _done(self, run_id: str, _: asyncio.Task[None]) -> None:
        self._active.pop(run_id, None)
        self._runs.pop(run_id, None)
        self._slots.give_back(1)

    async def _drive(self, claimed: Claimed) -> None:
        run = claimed.run
        control = RunControl()
        ctl = await self._bus.subscribe(subjects.run_control(run.workspace_id, run.id))
        body = asyncio.current_task()
        listener = asyncio.create_task(self._listen(ctl, control))
        renewer = asyncio.create_task(self._renew(claimed, body))
        try:
            status = await self._loop.execute(claimed, control)
            if status is None:  # fenced: a newer attempt owns the run
                log.warning("late write refused", run_id=run.id, attempt=run.attempt)
            elif status is RunStatus.AWAITING_APPROVAL:
                log.info("run waits for approval", run_id=run.id, attempt=run.attempt)
            else:
                log.info("run ended", run_id=run.id, status=status, attempt=run.attempt)
        except asyncio.CancelledError:
            log.info("run released", run_id=run.id, attempt=run.attempt)
            raise
        except Exception:
            # The lease will lapse and the recovery sweep hands the run to a worker again.
            log.exception("run crashed", run_id=run.id, attempt=run.attempt)
        finally:
            listener.cancel()
            renewer.cancel()
            await ctl.unsubscribe()

    async def _listen(self, ctl: Subscription, control: RunControl) -> None:
        async for msg in ctl:
            with contextlib.suppress(ValueError):
                command = json.loads(msg.data)
                if command.get("command") == "stop":
                    control.request_stop(str(command.get("reason") or "stopped on request"))

    async def _renew(self, claimed: Claimed, body: asyncio.Task[object] | None) -> None:
        interval = self._life.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            if not await self._life.renew(claimed.run, self.owner):
                log.warning("lease lost; dropping run", run_id=claimed.run.id)
                if body is not None:
                    body.cancel()
                return

    async def shutdown(self, grace: float) -> None:
        """Stop taking work; let runs finish for `grace` seconds, then hand the
        rest back: their leases end now, so another worker (or this one after a
        restart) resumes them from their last step at once."""
        self._stopping.set()
        self._slots.close()
        try:
            await self._wind_down(grace)
        finally:
            # Last: runs finishing in the grace period may still be waiting
            # for an answer from this process.
            if self._responder is not None:
                await self._responder.close()

    async def _wind_down(self, grace: float) -> None:
        # Closing a consumer ends its waiting fetch; what a fetch brings from
        # now on is handed back, not started.
        for consumer in list(self._consumers.values()):
            with contextlib.suppress(Exception):
                await consumer.close()
        await asyncio.gather(*self._intake.values(), return_exceptions=True)
        if not self._active:
            return
        _, pending = await asyncio.wait(list(self._active.values()), timeout=grace)
        unfinished = [c.run for c in self._runs.values()]
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for run in unfinished:
            try:
                await self._life.hand_back(run, self.owner)
            except Exception:
                log.exception("could not hand back a run; its lease will lapse", run_id=run.id)

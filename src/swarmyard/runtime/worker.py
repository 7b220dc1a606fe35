"""Workers: take runs off the work queue and drive them through the agent loop.

A work-queue message only says "run R wants a worker"; the database decides
who gets it (`Lifecycle.claim`), so a message delivered twice starts the
run once. The message is acked right after the claim: from then on the
run's lease, renewed while the run lives, is what keeps it owned, and the
recovery sweep re-dispatches it if the lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import Sequence

import structlog

from ..domain import subjects
from ..ports import Bus, Subscription, WorkItem
from ..services.lifecycle import Claimed, Lifecycle
from .agent_loop import AgentLoop, RunControl

__all__ = ["Worker"]

log = structlog.get_logger("swarmyard.worker")
ALL_ROLES = ("swarmyard.*.tasks.ready.>",)


class Worker:
    def __init__(
        self,
        bus: Bus,
        lifecycle: Lifecycle,
        loop: AgentLoop,
        *,
        owner: str,
        concurrency: int,
        subjects_filter: Sequence[str] = ALL_ROLES,
        durable: str = "workers",
    ) -> None:
        self._bus = bus
        self._life = lifecycle
        self._loop = loop
        self.owner = owner
        self._concurrency = concurrency
        self._filter = list(subjects_filter)
        self._durable = durable
        self._active: dict[str, asyncio.Task[None]] = {}
        self._runs: dict[str, Claimed] = {}
        self._room = asyncio.Event()
        self._stopping = asyncio.Event()

    @property
    def active_runs(self) -> int:
        return len(self._active)

    async def run(self) -> None:
        consumer = await self._bus.consumer(
            self._durable, self._filter, ack_wait=self._life.lease.total_seconds(), max_deliver=20
        )
        try:
            while not self._stopping.is_set():
                free = self._concurrency - len(self._active)
                if free <= 0:
                    self._room.clear()
                    await self._room.wait()
                    continue
                for item in await consumer.fetch(batch=min(free, 64), timeout=1.0):
                    await self._take(item)
        finally:
            await consumer.close()

    async def _take(self, item: WorkItem) -> None:
        try:
            body = json.loads(item.data)
            workspace_id, run_id = str(body["workspace_id"]), str(body["run_id"])
        except (ValueError, KeyError, TypeError):
            log.warning("malformed work item dropped", subject=item.subject)
            await item.term()
            return
        claimed = await self._life.claim(workspace_id, run_id, self.owner)
        await item.ack()
        if claimed is None:
            return  # finished, or held by another worker: the database has the say
        task = asyncio.create_task(self._drive(claimed), name=f"run:{run_id}")
        self._active[run_id] = task
        self._runs[run_id] = claimed
        task.add_done_callback(functools.partial(self._done, run_id))

    def _done(self, run_id: str, _: asyncio.Task[None]) -> None:
        self._active.pop(run_id, None)
        self._runs.pop(run_id, None)
        self._room.set()

    async def _drive(self, claimed: Claimed) -> None:
        run = claimed.run
        control = RunControl()
        ctl = await self._bus.subscribe(subjects.run_control(run.workspace_id, run.id))
        body = asyncio.current_task()
        listener = asyncio.create_task(self._listen(ctl, control))
        renewer = asyncio.create_task(self._renew(claimed, body))
        try:
            status = await self._loop.execute(claimed, control)
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
        self._room.set()
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

"""Recovery: nothing that was promised is lost when a process dies.

At start-up every pending run is dispatched again (an in-process work
queue died with the process; on JetStream the duplicate is harmless, the
claim decides). While running, runs whose lease lapsed — their worker died
or stalled — are dispatched again so another worker resumes them from
their last checkpoint, and so are runs left unclaimed for
`redispatch_after` (their message may be gone: a bus that lost its stream,
a dead-lettered delivery); a cluster's scheduler never runs `startup`, so
this is how its new leader picks up what the old one left. A run that keeps
losing its worker is failed rather than retried forever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from ..domain import EventType, Run, RunStatus
from ..ports import Page
from ..services.announce import Announcer
from ..services.deps import Deps
from ..services.lifecycle import Lifecycle, Outcome

__all__ = ["MAX_RUN_ATTEMPTS", "Recovery"]

log = structlog.get_logger("swarmyard.recovery")
MAX_RUN_ATTEMPTS = 5


class Recovery:
    def __init__(self, deps: Deps, lifecycle: Lifecycle, *, redispatch_after: float = 60.0) -> None:
        self._d = deps
        self._life = lifecycle
        self._redispatch_after = timedelta(seconds=redispatch_after)
        self._redispatched: dict[str, datetime] = {}

    async def startup(self) -> int:
        now = self._d.clock.now()
        count = 0
        for ws in await self._d.store.list_workspaces():
            async with self._d.store.unit_of_work(ws.id) as uow:
                pending = await uow.runs.list(
                    statuses=(RunStatus.PENDING,), page=Page(limit=10_000)
                )
                ann = Announcer(uow, self._d.clock, self._d.ids)
                for run in pending:
                    self._due(run.id, now, self._redispatch_after)  # noted: not again at once
                    await ann.dispatch(run)
                await uow.commit()
            self._d.outbox.submit(ann.messages)
            count += len(pending)
        if count:
            log.info("dispatched pending runs again after start", count=count)
        return count + await self.sweep()

    async def sweep(self) -> int:
        now = self._d.clock.now()
        count = 0
        for ws in await self._d.store.list_workspaces():
            async with self._d.store.unit_of_work(ws.id) as uow:
                expired = await uow.runs.expired(now)
                waiting = await uow.runs.waiting(now - self._redispatch_after)
            for run in expired:
                if not self._due(run.id, now, self._life.lease):
                    continue  # already sent once this lease period
                if run.attempt >= MAX_RUN_ATTEMPTS:
                    await self._give_up(run.workspace_id, run.id)
                    continue
                count += await self._dispatch(run)
            for run in waiting:
                if self._due(run.id, now, self._redispatch_after):
                    count += await self._dispatch(run)
        if count:
            log.info("dispatched runs again", count=count)
        if len(self._redispatched) > 10_000:
            self._redispatched.clear()
        return count

    def _due(self, run_id: str, now: datetime, every: timedelta) -> bool:
        """Whether the run may be sent again (once per `every`); notes it if so."""
        seen = self._redispatched.get(run_id)
        if seen is not None and now - seen < every:
            return False
        self._redispatched[run_id] = now
        return True

    async def _dispatch(self, run: Run) -> int:
        async with self._d.store.unit_of_work(run.workspace_id) as uow:
            ann = Announcer(uow, self._d.clock, self._d.ids)
            await ann.dispatch(run)
            await uow.commit()
        self._d.outbox.submit(ann.messages)
        return 1

    async def _give_up(self, workspace_id: str, run_id: str) -> None:
        claimed = await self._life.claim(workspace_id, run_id, owner="recovery")
        if claimed is None:
            return
        msg = f"the run lost its worker {MAX_RUN_ATTEMPTS} times; giving up"
        ev = self._life.event(claimed.run, EventType.ERROR, {"message": msg})
        await self._life.finish(claimed.run, Outcome(RunStatus.FAILED, error=msg), [ev])

"""Recovery: nothing that was promised is lost when a process dies.

At start-up every pending run is dispatched again (an in-process work
queue died with the process; on JetStream the duplicate is harmless, the
claim decides). While running, runs whose lease lapsed — their worker died
or stalled — are dispatched again so another worker resumes them from
their last checkpoint. A run that keeps losing its worker is failed rather
than retried forever.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from ..domain import EventType, RunStatus
from ..ports import Page
from ..services.announce import Announcer
from ..services.deps import Deps
from ..services.lifecycle import Lifecycle, Outcome

__all__ = ["MAX_RUN_ATTEMPTS", "Recovery"]

log = structlog.get_logger("swarmyard.recovery")
MAX_RUN_ATTEMPTS = 5


class Recovery:
    def __init__(self, deps: Deps, lifecycle: Lifecycle) -> None:
        self._d = deps
        self._life = lifecycle
        self._redispatched: dict[str, datetime] = {}

    async def startup(self) -> int:
        count = 0
        for ws in await self._d.store.list_workspaces():
            async with self._d.store.unit_of_work(ws.id) as uow:
                pending = await uow.runs.list(
                    statuses=(RunStatus.PENDING,), page=Page(limit=10_000)
                )
                ann = Announcer(uow, self._d.clock, self._d.ids)
                for run in pending:
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
            for run in expired:
                seen = self._redispatched.get(run.id)
                if seen is not None and now - seen < self._life.lease:
                    continue  # already sent once this lease period
                self._redispatched[run.id] = now
                if run.attempt >= MAX_RUN_ATTEMPTS:
                    await self._give_up(run.workspace_id, run.id)
                    continue
                async with self._d.store.unit_of_work(ws.id) as uow:
                    ann = Announcer(uow, self._d.clock, self._d.ids)
                    await ann.dispatch(run)
                    await uow.commit()
                self._d.outbox.submit(ann.messages)
                count += 1
        if len(self._redispatched) > 10_000:
            self._redispatched.clear()
        return count

    async def _give_up(self, workspace_id: str, run_id: str) -> None:
        claimed = await self._life.claim(workspace_id, run_id, owner="recovery")
        if claimed is None:
            return
        msg = f"the run lost its worker {MAX_RUN_ATTEMPTS} times; giving up"
        ev = self._life.event(claimed.run, EventType.ERROR, {"message": msg})
        await self._life.finish(claimed.run, Outcome(RunStatus.FAILED, error=msg), [ev])

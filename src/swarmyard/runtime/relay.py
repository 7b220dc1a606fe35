"""The outbox relay: publishes what transactions wrote to the outbox.

Fast path: right after a commit the service hands its messages to
`submit`; the relay publishes them in order and deletes their rows in
batches, a little later: one transaction clears what several flushes
published (on SQLite every transaction waits for the one write lock, so a
delete per flush cost the writers behind it more than the delete itself).
Safety net: `sweep` publishes rows left behind by a crash (older than a
grace period, so it does not race the fast path). A message may thus
be published twice; work-queue messages carry their outbox id as message id
(deduplicated by the bus) and run events carry their sequence number
(subscribers drop what they have seen).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import structlog

from ..domain import Clock
from ..ports import Bus, OutboxMessage, Store

__all__ = ["CLEAR_DELAY", "Relay"]

# How long published rows wait to be deleted together. Until then they stay
# "in flight", so the sweep never publishes them again.
CLEAR_DELAY = 0.05

log = structlog.get_logger("swarmyard.relay")


class Relay:
    def __init__(
        self,
        store: Store,
        bus: Bus,
        clock: Clock,
        *,
        sweep_grace: float = 5.0,
        clear_delay: float = CLEAR_DELAY,
    ) -> None:
        self._store = store
        self._clear_delay = clear_delay
        self._bus = bus
        self._clock = clock
        self._grace = timedelta(seconds=sweep_grace)
        self._queue: asyncio.Queue[OutboxMessage] = asyncio.Queue()
        self._in_flight: set[str] = set()
        self._published: list[str] = []  # stored rows published, not yet deleted
        self._to_clear = asyncio.Event()

    def submit(self, messages: Sequence[OutboxMessage]) -> None:
        for m in messages:
            self._in_flight.add(m.id)
            self._queue.put_nowait(m)

    async def _publish(self, m: OutboxMessage) -> None:
        if m.work_queue:
            await self._bus.enqueue(m.subject, m.data, msg_id=m.id)
        else:
            await self._bus.publish(m.subject, m.data, headers={"Nats-Msg-Id": m.id})

    async def run(self) -> None:
        """Publish submitted messages, and delete their rows, until cancelled."""
        clearer = asyncio.create_task(self._clear_loop())
        try:
            while True:
                batch = [await self._queue.get()]
                while not self._queue.empty() and len(batch) < 500:
                    batch.append(self._queue.get_nowait())
                await self._flush(batch)
        finally:
            clearer.cancel()
            await asyncio.gather(clearer, return_exceptions=True)

    async def _flush(self, batch: list[OutboxMessage]) -> None:
        published: list[str] = []
        try:
            for m in batch:
                await self._publish(m)
                if m.stored:
                    published.append(m.id)
        finally:
            self._published += published
            kept = set(published)
            self._in_flight.difference_update(m.id for m in batch if m.id not in kept)
            if published:
                self._to_clear.set()

    async def _clear_loop(self) -> None:
        while True:
            await self._to_clear.wait()
            await asyncio.sleep(self._clear_delay)  # let more flushes join this delete
            self._to_clear.clear()
            await self._clear()

    async def _clear(self) -> None:
        ids, self._published = self._published, []
        if not ids:
            return
        try:
            await self._store.outbox_done(ids)
        except Exception:
            log.exception("could not clear published outbox rows; the sweep retries")
        finally:
            self._in_flight.difference_update(ids)

    async def drain(self) -> None:
        """Publish everything submitted so far and clear its rows (used at shutdown)."""
        batch = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        if batch:
            await self._flush(batch)
        await self._clear()

    async def sweep(self, *, everything: bool = False) -> int:
        """Publish rows older than the grace period that nobody is publishing
        (`everything`: at start-up, when every row is a leftover)."""
        cutoff = self._clock.now() - (timedelta(0) if everything else self._grace)
        rows = [
            m
            for m in await self._store.outbox_pending(limit=1000)
            if m.created_at <= cutoff and m.id not in self._in_flight
        ]
        if rows:
            log.info("publishing outbox rows left behind", count=len(rows))
            await self._flush(rows)
            await self._clear()  # at once: the sweep may run where `run` does not
        return len(rows)

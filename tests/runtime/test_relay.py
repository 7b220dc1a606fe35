"""The outbox relay: every submitted message published in order, its row
deleted once published, several flushes cleared in one transaction, and a
row never published twice by the sweep while its delete is pending."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import FakeClock, Workspace
from swarmyard.ports import OutboxMessage
from swarmyard.runtime.relay import Relay

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)


class CountingStore(MemoryStore):
    """Records each outbox_done call, and lets a test hold one back."""

    def __init__(self) -> None:
        super().__init__()
        self.cleared: list[list[str]] = []
        self.clearing = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def outbox_done(self, ids: Sequence[str]) -> None:
        self.clearing.set()
        await self.release.wait()
        self.cleared.append(list(ids))
        await super().outbox_done(ids)


def message(n: int, *, stored: bool = True) -> OutboxMessage:
    return OutboxMessage(f"m{n}", "w", "swarmyard.w.board", b"%d" % n, T0, stored=stored)


@pytest.fixture
async def store() -> CountingStore:
    store = CountingStore()
    await store.migrate()
    await store.add_workspace(Workspace("w", "W", T0))
    return store


async def write(store: CountingStore, messages: list[OutboxMessage]) -> None:
    async with store.unit_of_work("w") as uow:
        for m in messages:
            if m.stored:
                await uow.outbox.add(m)
        await uow.commit()


async def test_flushes_are_published_in_order_and_cleared_together(store: CountingStore) -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("swarmyard.w.board")
    # Rows wait long to be deleted here, so both flushes surely join one delete.
    relay = Relay(store, bus, FakeClock(T0), clear_delay=60)
    first, second = [message(1), message(2, stored=False)], [message(3)]
    await write(store, [*first, *second])
    job = asyncio.create_task(relay.run())
    relay.submit(first)
    assert (await sub.next(timeout=5)).data == b"1"
    relay.submit(second)
    got = [(await sub.next(timeout=5)).data for _ in range(2)]
    assert got == [b"2", b"3"]
    assert store.cleared == []
    job.cancel()
    await asyncio.gather(job, return_exceptions=True)
    await relay.drain()
    assert store.cleared == [["m1", "m3"]]  # one delete; m2 never had a row
    assert await store.outbox_pending() == []
    await sub.unsubscribe()


async def test_the_sweep_leaves_rows_whose_delete_is_pending(store: CountingStore) -> None:
    bus = MemoryBus()
    clock = FakeClock(T0)
    relay = Relay(store, bus, clock, sweep_grace=1.0)
    await write(store, [message(1)])
    store.release.clear()  # the delete waits
    job = asyncio.create_task(relay.run())
    relay.submit([message(1)])
    await asyncio.wait_for(store.clearing.wait(), 5)
    clock.advance(timedelta(seconds=10))
    assert await relay.sweep() == 0  # published, its row not yet gone: not again
    store.release.set()
    job.cancel()
    await asyncio.gather(job, return_exceptions=True)
    assert store.cleared == [["m1"]]


async def test_drain_publishes_and_clears_what_is_left(store: CountingStore) -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("swarmyard.w.board")
    relay = Relay(store, bus, FakeClock(T0))
    await write(store, [message(1), message(2)])
    relay.submit([message(1), message(2)])
    await relay.drain()
    assert [(await sub.next(timeout=5)).data for _ in range(2)] == [b"1", b"2"]
    assert store.cleared == [["m1", "m2"]]
    assert await store.outbox_pending() == []
    await sub.unsubscribe()

"""Conformance suite of the LeaderLease port: every lease adapter passes it unchanged.

Time is a hand-moved clock handed to the adapter, so expiry is shown without
waiting for it. A "contender" stands for a separate process: on NATS each
has a connection of its own to a key-value bucket made for the test; the
in-process adapter serves one process, so its contenders share it.

The NATS adapter runs against the test machine's server
(SWARMYARD_TEST_NATS_URL, by default nats://127.0.0.1:4222); without one its
tests skip, or fail when SWARMYARD_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.coordination import MemoryLeaderLease, create_leader_lease
from swarmyard.ports import LeaderLease

TTL = 10.0


class Clock:
    """Seconds that move only when told to (a wall-clock-like start)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Contender = Callable[[], Awaitable[LeaderLease]]
# Given the test's clock: a way to get the lease as one more process sees it.
LeaseFactory = Callable[[pytest.FixtureRequest, Clock], AbstractAsyncContextManager[Contender]]


@asynccontextmanager
async def _memory(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Contender]:
    lease = MemoryLeaderLease(clock=clock)

    async def contender() -> LeaderLease:
        return lease

    yield contender


@asynccontextmanager
async def _nats(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Contender]:
    from swarmyard.adapters.bus.nats import NatsBus
    from swarmyard.adapters.bus.testing import delete_bucket, scratch_name
    from swarmyard.adapters.coordination.nats_kv import NatsLeaderLease

    url: str = request.getfixturevalue("nats_server")
    bucket = scratch_name("LEADERS")
    buses: list[NatsBus] = []

    async def contender() -> LeaderLease:
        bus = NatsBus(url)
        buses.append(bus)
        return NatsLeaderLease(bus, bucket=bucket, clock=clock)

    try:
        yield contender
    finally:
        for bus in buses:
            await bus.close()
        await delete_bucket(url, bucket)


ADAPTERS: dict[str, LeaseFactory] = {
    "memory": _memory,
    "nats": _nats,
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(ADAPTERS))
async def contender(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Contender]:
    async with ADAPTERS[request.param](request, clock) as make:
        yield make


async def test_a_free_lease_is_taken_and_its_holder_known(contender: Contender) -> None:
    a, b = await contender(), await contender()
    assert await a.holder("scheduler") is None
    assert await a.acquire("scheduler", "host-a", TTL) is True
    assert await a.holder("scheduler") == "host-a"
    assert await b.holder("scheduler") == "host-a"


async def test_one_holder_among_twenty_concurrent_contenders(contender: Contender) -> None:
    leases = [await contender() for _ in range(20)]
    won = await asyncio.gather(
        *(lease.acquire("scheduler", f"host-{i}", TTL) for i, lease in enumerate(leases))
    )
    assert won.count(True) == 1
    winner = f"host-{won.index(True)}"
    assert {await lease.holder("scheduler") for lease in leases} == {winner}


async def test_the_holder_renews_its_lease(contender: Contender, clock: Clock) -> None:
    a, b = await contender(), await contender()
    assert await a.acquire("scheduler", "host-a", TTL)
    clock.advance(0.8 * TTL)
    assert await a.acquire("scheduler", "host-a", TTL) is True
    clock.advance(0.8 * TTL)  # past the first term, within the renewed one
    assert await b.acquire("scheduler", "host-b", TTL) is False
    assert await b.holder("scheduler") == "host-a"


async def test_another_takes_over_only_once_the_ttl_has_lapsed(
    contender: Contender, clock: Clock
) -> None:
    a, b = await contender(), await contender()
    assert await a.acquire("scheduler", "host-a", TTL)
    clock.advance(TTL - 0.01)
    assert await b.acquire("scheduler", "host-b", TTL) is False
    clock.advance(0.02)
    assert await b.holder("scheduler") is None
    assert await b.acquire("scheduler", "host-b", TTL) is True
    assert await a.holder("scheduler") == "host-b"
    assert await a.acquire("scheduler", "host-a", TTL) is False, "the old holder lost it"


async def test_one_of_twenty_contenders_takes_over_a_lapsed_lease(
    contender: Contender, clock: Clock
) -> None:
    first = await contender()
    assert await first.acquire("scheduler", "host-old", TTL)
    clock.advance(TTL + 1)
    leases = [await contender() for _ in range(20)]
    won = await asyncio.gather(
        *(lease.acquire("scheduler", f"host-{i}", TTL) for i, lease in enumerate(leases))
    )
    assert won.count(True) == 1
    assert await first.holder("scheduler") == f"host-{won.index(True)}"


async def test_release_lets_another_take_it_at_once(contender: Contender) -> None:
    a, b = await contender(), await contender()
    assert await a.acquire("scheduler", "host-a", TTL)
    await a.release("scheduler", "host-a")
    assert await b.holder("scheduler") is None
    assert await b.acquire("scheduler", "host-b", TTL) is True
    assert await a.holder("scheduler") == "host-b"


async def test_only_the_holder_can_release(contender: Contender) -> None:
    a, b = await contender(), await contender()
    assert await a.acquire("scheduler", "host-a", TTL)
    await b.release("scheduler", "host-b")
    await b.release("orchestrator", "host-a")  # a lease that does not exist
    assert await b.holder("scheduler") == "host-a"
    assert await b.acquire("scheduler", "host-b", TTL) is False


async def test_releasing_a_lease_lost_to_another_changes_nothing(
    contender: Contender, clock: Clock
) -> None:
    a, b = await contender(), await contender()
    assert await a.acquire("scheduler", "host-a", TTL)
    clock.advance(TTL + 1)
    assert await b.acquire("scheduler", "host-b", TTL)
    await a.release("scheduler", "host-a")
    assert await a.holder("scheduler") == "host-b"


async def test_leases_of_different_names_are_independent(
    contender: Contender, clock: Clock
) -> None:
    a, b = await contender(), await contender()
    assert await a.acquire("scheduler", "host-a", TTL)
    assert await b.acquire("recovery", "host-b", 2 * TTL)
    clock.advance(TTL + 1)
    assert await a.holder("scheduler") is None
    assert await a.holder("recovery") == "host-b"


async def test_bad_claims_are_refused(contender: Contender) -> None:
    lease = await contender()
    with pytest.raises(ValueError, match="ttl"):
        await lease.acquire("scheduler", "host-a", 0)
    with pytest.raises(ValueError, match="owner"):
        await lease.acquire("scheduler", "", TTL)
    assert await lease.holder("scheduler") is None


# --------------------------------------------------------------------------- choosing one


async def test_an_in_process_bus_gets_one_in_process_lease_table() -> None:
    bus, other = MemoryBus(), MemoryBus()
    lease = create_leader_lease(bus)
    assert isinstance(lease, MemoryLeaderLease)
    assert create_leader_lease(bus) is lease, "whatever shares a bus shares its leases"
    assert create_leader_lease(other) is not lease
    await bus.close()
    await other.close()


async def test_a_nats_bus_gets_the_key_value_lease() -> None:
    from swarmyard.adapters.bus import create_bus
    from swarmyard.adapters.coordination.nats_kv import NatsLeaderLease

    bus = create_bus("nats://127.0.0.1:4222")  # nothing connects until first use
    assert isinstance(create_leader_lease(bus), NatsLeaderLease)
    await bus.close()

"""Leadership: the control-plane jobs run only in the process holding the lease."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from swarmyard.runtime.leadership import LEASE_NAME, Leadership

TTL = 0.3  # renewals every 0.1 s keep the tests quick
WAIT = 5.0


class FakeLease:
    """The LeaderLease port on the event loop's clock, with a switch to fail."""

    def __init__(self) -> None:
        self.owner: str | None = None
        self.until = 0.0
        self.broken = False
        self.released: list[str] = []

    async def acquire(self, name: str, owner: str, ttl: float) -> bool:
        assert name == LEASE_NAME
        if self.broken:
            raise ConnectionError("lease store unreachable")
        now = asyncio.get_running_loop().time()
        if self.owner in (None, owner) or now >= self.until:
            self.owner, self.until = owner, now + ttl
            return True
        return False

    async def release(self, name: str, owner: str) -> None:
        self.released.append(owner)
        if self.owner == owner:
            self.owner = None

    async def holder(self, name: str) -> str | None:
        return self.owner


class Jobs:
    """A job that says when it starts and when it is stopped."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.starts: list[str] = []

    def for_owner(self, owner: str) -> Any:
        def make() -> list[tuple[str, Coroutine[Any, Any, None]]]:
            return [("job", self._job(owner))]

        return make

    async def _job(self, owner: str) -> None:
        self.running.add(owner)
        self.starts.append(owner)
        self.started.set()
        try:
            await asyncio.Event().wait()
        finally:
            self.running.discard(owner)
            self.stopped.set()


async def wait(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), WAIT)
    event.clear()


def campaign(lease: FakeLease, jobs: Jobs, owner: str) -> tuple[Leadership, asyncio.Task[None]]:
    leader = Leadership(lease, jobs.for_owner(owner), owner=owner, ttl=TTL)
    return leader, asyncio.create_task(leader.run())


async def test_one_of_two_leads_and_the_other_takes_over_when_it_stops() -> None:
    lease, jobs = FakeLease(), Jobs()
    a, a_task = campaign(lease, jobs, "a")
    b, b_task = campaign(lease, jobs, "b")
    try:
        await wait(jobs.started)
        first = lease.owner
        assert jobs.running == {first}
        assert [x.leading for x in (a, b)] == [first == "a", first == "b"]

        leader_task, standby = (a_task, b) if first == "a" else (b_task, a)
        leader_task.cancel()
        await asyncio.gather(leader_task, return_exceptions=True)
        assert first in lease.released  # given up on shutdown, not left to lapse
        await wait(jobs.started)
        assert jobs.running == {standby.owner} == {lease.owner}
        assert standby.leading
        assert jobs.starts == [first, standby.owner]
    finally:
        for t in (a_task, b_task):
            t.cancel()
        await asyncio.gather(a_task, b_task, return_exceptions=True)
    assert jobs.running == set()


async def test_a_leader_whose_lease_was_taken_steps_down() -> None:
    lease, jobs = FakeLease(), Jobs()
    leader, task = campaign(lease, jobs, "a")
    try:
        await wait(jobs.started)
        # Another process took the lease (ours lapsed while we were paused).
        lease.owner, lease.until = "b", asyncio.get_running_loop().time() + 60
        await wait(jobs.stopped)
        assert jobs.running == set()
        assert not leader.leading
        assert leader.terms == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_an_unreachable_lease_stops_the_jobs_until_it_answers_again() -> None:
    lease, jobs = FakeLease(), Jobs()
    leader, task = campaign(lease, jobs, "a")
    try:
        await wait(jobs.started)
        lease.broken = True
        await wait(jobs.stopped)
        assert not leader.leading
        lease.broken = False
        await wait(jobs.started)
        assert leader.leading
        assert leader.terms == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_a_ttl_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ttl"):
        Leadership(FakeLease(), list, owner="a", ttl=0)

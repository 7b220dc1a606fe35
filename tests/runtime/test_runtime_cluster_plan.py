"""The parts of a cluster in one event loop on PostgreSQL: an API, two workers
and two schedulers of which only the leader runs the control plane, and
whose standby takes over when the leader stops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from swarmyard.adapters.coordination import MemoryLeaderLease
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import RunStatus, TaskStatus
from swarmyard.runtime.processes import API, SCHEDULER, WORKER
from swarmyard.runtime.wiring import Container
from swarmyard.services.tasks import NewTask
from swarmyard.testing import wait_for_task

pytestmark = pytest.mark.postgres

Make = Callable[..., Container]


def done(task: Any) -> bool:
    return bool(task.status is TaskStatus.DONE)


async def finish(api: Container, count: int, label: str) -> list[str]:
    tasks = [
        await api.tasks.create(WS, NewTask(title=f"{label} {i}", type="docs")) for i in range(count)
    ]
    for t in tasks:
        await wait_for_task(api, WS, t.id, done, timeout=30)
    return [t.id for t in tasks]


async def test_api_workers_and_schedulers_split_the_work(pg_cluster: Make) -> None:
    lease = MemoryLeaderLease()
    api = pg_cluster(API)
    workers = [pg_cluster(WORKER) for _ in range(2)]
    schedulers = [pg_cluster(SCHEDULER, lease=lease, leader_ttl_seconds=1) for _ in range(2)]
    for c in (api, *workers, *schedulers):
        await c.start()
    await api.registry.install(WS, "documenter", replicas=3)

    first = await finish(api, 12, "Write docs")

    assert [s.leader.leading for s in schedulers if s.leader].count(True) == 1
    leader = next(s for s in schedulers if s.leader and s.leader.leading)
    standby = next(s for s in schedulers if s is not leader)
    assert await lease.holder("swarmyard-scheduler") == leader.worker.owner
    assert api.leader is None
    assert all(not w.worker.active_runs for w in workers)

    # The leader goes away (its lease is released); the standby picks up the
    # orchestration, so new tasks still get done.
    await leader.stop(grace=5.0)
    second = await finish(api, 6, "More docs")
    assert standby.leader is not None
    assert standby.leader.leading
    assert await lease.holder("swarmyard-scheduler") == standby.worker.owner

    for task_id in first + second:
        runs = await api.runs.for_task(WS, task_id)
        assert [r.status for r in runs] == [RunStatus.SUCCEEDED]


async def test_only_the_api_process_creates_the_first_owner_key(pg_cluster: Make) -> None:
    worker = pg_cluster(WORKER)
    await worker.start()
    async with worker.store.unit_of_work(WS) as uow:
        assert await uow.api_keys.list() == []
    api = pg_cluster(API)
    await api.start()
    async with api.store.unit_of_work(WS) as uow:
        assert len(await uow.api_keys.list()) == 1


async def test_api_processes_starting_together_make_one_owner_key(pg_cluster: Make) -> None:
    apis = [pg_cluster(API) for _ in range(3)]
    await asyncio.gather(*(c.start() for c in apis))
    async with apis[0].store.unit_of_work(WS) as uow:
        keys = await uow.api_keys.list()
    assert [k.name for k in keys] == ["owner (first start)"]

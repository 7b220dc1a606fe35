"""A run whose work-queue message is lost is queued again by the leader's
recovery sweep, so a cluster (whose scheduler never re-sends everything at
start) still gets it done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swarmyard.adapters.coordination import MemoryLeaderLease
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import RunStatus, TaskStatus
from swarmyard.ports import Consumer
from swarmyard.runtime.processes import API, SCHEDULER, WORKER
from swarmyard.runtime.role_queues import ACK_WAIT, MAX_DELIVER, durable_of, filter_of
from swarmyard.runtime.wiring import Container
from swarmyard.services.tasks import NewTask
from swarmyard.testing import wait_for_task

Make = Callable[..., Container]


def in_progress(task: Any) -> bool:
    return bool(task.status is TaskStatus.IN_PROGRESS)


def done(task: Any) -> bool:
    return bool(task.status is TaskStatus.DONE)


async def assigned_task(
    cluster: Make, redispatch_seconds: float
) -> tuple[Container, Container, str]:
    """An API and a leading scheduler; one docs task, assigned (its run queued)."""
    api = cluster(API)
    scheduler = cluster(
        SCHEDULER,
        lease=MemoryLeaderLease(),
        lease_seconds=1.5,
        redispatch_seconds=redispatch_seconds,
    )
    for c in (api, scheduler):
        await c.start()
    await api.registry.install(WS, "documenter")
    task = await api.tasks.create(WS, NewTask(title="Write the changelog", type="docs"))
    await wait_for_task(api, WS, task.id, in_progress, timeout=10)
    return api, scheduler, task.id


async def documenter_queue(api: Container) -> Consumer:
    return await api.bus.consumer(
        durable_of("documenter"),
        [filter_of("documenter")],
        ack_wait=ACK_WAIT,
        max_deliver=MAX_DELIVER,
    )


async def test_a_run_whose_message_was_lost_is_dispatched_again(cluster: Make) -> None:
    api, _, task_id = await assigned_task(cluster, redispatch_seconds=0.5)
    # The message is taken off the queue and dropped, as a bus that lost its
    # stream would: no worker will ever see it.
    queue = await documenter_queue(api)
    lost = await queue.fetch(batch=10, timeout=5)
    assert len(lost) == 1
    await lost[0].term()
    await queue.close()

    worker = cluster(WORKER)
    await worker.start()
    await wait_for_task(api, WS, task_id, done, timeout=20)
    runs = await api.runs.for_task(WS, task_id)
    assert [(r.status, r.attempt) for r in runs] == [(RunStatus.SUCCEEDED, 1)]


async def test_a_queued_run_is_not_sent_again_before_its_time(cluster: Make) -> None:
    api, scheduler, _ = await assigned_task(cluster, redispatch_seconds=3600)
    assert await scheduler.recovery.sweep() == 0  # young, pending: left in the queue
    queue = await documenter_queue(api)
    queued = await queue.fetch(batch=10, timeout=5)
    assert len(queued) == 1  # one message, not one per sweep
    await queue.close()

"""The long-running loops of the control plane: orchestrator, scheduler,
recovery sweep and outbox sweep.

The orchestrator wakes on any board message (a task created or finished, an
agent installed or scaled) and otherwise every `interval` seconds; the rest
tick on their own periods.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import structlog

from ..domain import Clock
from ..ports import Bus, Store
from ..services.orchestrator import Orchestrator
from ..services.schedules import ScheduleService
from .recovery import Recovery
from .relay import Relay

__all__ = ["COALESCE_SECONDS", "orchestrator_loop", "periodic", "scheduler_jobs"]

COALESCE_SECONDS = 0.01

log = structlog.get_logger("swarmyard.loops")


async def orchestrator_loop(
    store: Store, bus: Bus, orchestrator: Orchestrator, *, interval: float
) -> None:
    wake = asyncio.Event()
    sub = await bus.subscribe("swarmyard.*.board")

    async def listen() -> None:
        async for msg in sub:
            if _may_free_work(msg.data):
                wake.set()

    listener = asyncio.create_task(listen())
    try:
        while True:
            wake.clear()
            try:
                for ws in await store.list_workspaces():
                    await orchestrator.assign_ready(ws.id)
            except Exception:
                log.exception("orchestrator pass failed; trying again")
            try:
                await asyncio.wait_for(wake.wait(), timeout=interval)
            except TimeoutError:
                pass
            else:
                # Let a burst of changes (a hundred tasks created at once) land
                # before the next pass instead of running one pass per change.
                await asyncio.sleep(COALESCE_SECONDS)
    finally:
        listener.cancel()
        await sub.unsubscribe()


def _may_free_work(data: bytes) -> bool:
    """Whether a board message can make a new assignment possible: a task that
    is new or left a column, an agent installed/scaled/resumed. The
    orchestrator's own moves into in_progress and waiting notes are not."""
    try:
        body = json.loads(data)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if body.get("kind") != "task":
        return bool(body.get("kind") == "agent")
    task = body.get("task") or {}
    if body.get("previous_status") is None:
        return bool(task.get("status") == "todo" and not task.get("waiting_reason"))
    return bool(task.get("status") != "in_progress")


async def periodic(name: str, every: float, action: Callable[[], Awaitable[object]]) -> None:
    while True:
        try:
            await action()
        except Exception:
            log.exception("periodic job failed", job=name)
        await asyncio.sleep(every)


def scheduler_jobs(
    store: Store,
    schedules: ScheduleService,
    recovery: Recovery,
    relay: Relay,
    clock: Clock,
    *,
    lease_seconds: float,
) -> list[tuple[str, float, Callable[[], Awaitable[object]]]]:
    async def tick_schedules() -> None:
        for ws in await store.list_workspaces():
            await schedules.tick(ws.id)

    return [
        ("schedules", 5.0, tick_schedules),
        ("recovery", max(0.5, lease_seconds / 3), recovery.sweep),
        ("outbox", 2.0, relay.sweep),
        # Budget reservations of calls whose worker died before settling them.
        ("reservations", 30.0, lambda: store.release_expired_reservations(clock.now())),
    ]

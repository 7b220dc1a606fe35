"""Waiting for a delegated subtask to settle.

The waiter listens to the workspace's board subject and re-reads the
subtask whenever a message names it. It subscribes before its first read so
a completion cannot slip between the two; a slow periodic re-read covers
a message lost with a crashed process.
"""

from __future__ import annotations

import asyncio
import json

from ..domain import subjects
from ..ports import Bus, Subscription
from ..services.delegation import Delegator, SubtaskOutcome

__all__ = ["SubtaskWaiter"]


class SubtaskWaiter:
    def __init__(self, bus: Bus, delegator: Delegator, *, recheck_seconds: float = 5.0) -> None:
        self._bus = bus
        self._delegator = delegator
        self._recheck = recheck_seconds

    async def wait(
        self, workspace_id: str, subtask_id: str, stop: asyncio.Event
    ) -> SubtaskOutcome | None:
        """The subtask's outcome, or None if `stop` was set first."""
        sub = await self._bus.subscribe(subjects.board(workspace_id))
        try:
            while not stop.is_set():
                outcome = await self._delegator.check(workspace_id, subtask_id)
                if outcome is not None:
                    return outcome
                await self._next_mention(sub, subtask_id, stop)
            return None
        finally:
            await sub.unsubscribe()

    async def _next_mention(self, sub: Subscription, subtask_id: str, stop: asyncio.Event) -> None:
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while True:
                receive = asyncio.ensure_future(sub.next(timeout=self._recheck))
                done, _ = await asyncio.wait(
                    {receive, stopper}, return_when=asyncio.FIRST_COMPLETED
                )
                if stopper in done:
                    receive.cancel()
                    return
                try:
                    msg = receive.result()
                except TimeoutError:
                    return
                if _mentions(msg.data, subtask_id):
                    return
        finally:
            stopper.cancel()


def _mentions(data: bytes, task_id: str) -> bool:
    if task_id.encode() not in data:
        return False
    try:
        body = json.loads(data)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("task", {}).get("id") == task_id

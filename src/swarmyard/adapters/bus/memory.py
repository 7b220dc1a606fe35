"""The in-process bus: embedded mode's implementation of the Bus port.

Embedded mode runs the API, orchestrator, workers and scheduler in one
process, so they talk through this bus instead of NATS. It is a production
adapter, held to the same conformance suite as the NATS one, not a test
double.

Delivery promises, plainly:

- publish/subscribe is **at most once**: a message reaches the subscriptions
  that exist when it is published, once each and in publish order, and is
  never stored. Each subscription queues without bound, so nothing is lost
  while it lives, at the cost of memory if it stops reading.
- request/reply is at most once too; one server of a subject answers each
  request, and a request nobody listens to fails at once with TimeoutError.
- the work queue is **at least once**: a message stays until it is acked or
  termed, comes back when `ack_wait` passes without an ack, and goes to
  ``swarmyard.deadletter.<subject>`` after `max_deliver` deliveries.
  Handlers must be idempotent.

Nothing survives the process: what must outlive it is written to the
outbox in the database first and published from there.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Sequence

from swarmyard.ports import BusClosed, BusMessage

from ._pubsub import MemorySubscription, Router, Server
from ._workqueue import MemoryConsumer, WorkQueue

__all__ = ["MemoryBus"]

DEFAULT_DEDUP_WINDOW = 120.0  # seconds, JetStream's default duplicate window


class MemoryBus:
    """The Bus port inside one process.

    `clock` (monotonic seconds) drives the deduplication window, ack
    deadlines and nak delays, so tests can move time and call `_reap()`
    instead of sleeping. Waits (`fetch`, `next`, `request` timeouts) are
    real waits on the event loop. Use it from one event loop: it is not
    thread-safe, and needs no lock because nothing in it awaits mid-update.
    """

    def __init__(
        self,
        *,
        dedup_window: float = DEFAULT_DEDUP_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._router = Router()
        self._queue = WorkQueue(clock=clock, dedup_window=dedup_window, publish=self._router.route)
        self._inboxes = itertools.count(1)
        self._closed = False

    async def publish(
        self, subject: str, data: bytes, *, headers: dict[str, str] | None = None
    ) -> None:
        """Fire-and-forget to current subscribers."""
        self._check_open()
        self._router.route(BusMessage(subject=subject, data=data, headers=dict(headers or {})))

    async def subscribe(self, pattern: str) -> MemorySubscription:
        return self._router.subscribe(pattern)

    async def request(self, subject: str, data: bytes, *, timeout: float) -> BusMessage:
        """Send and wait for one reply; TimeoutError when none comes (or nobody listens)."""
        inbox = self._router.subscribe(f"_INBOX.{next(self._inboxes)}")
        try:
            message = BusMessage(subject=subject, data=data, reply=inbox.pattern)
            if not self._router.route(message):
                raise TimeoutError(f"no responders on {subject!r}")
            try:
                return await inbox.next(timeout)
            except TimeoutError:
                raise TimeoutError(f"no reply on {subject!r} within {timeout} s") from None
        finally:
            inbox.close()

    async def serve(
        self, subject: str, handler: Callable[[BusMessage], Awaitable[bytes]]
    ) -> Server:
        """Answer requests on `subject` with `handler`'s bytes; servers of one
        subject form a queue group (each request goes to one of them)."""
        return self._router.serve(subject, handler)

    async def enqueue(self, subject: str, data: bytes, *, msg_id: str) -> bool:
        """Put a message on the work queue; False if `msg_id` was seen within
        the deduplication window."""
        return self._queue.enqueue(subject, data, msg_id)

    async def consumer(
        self, durable: str, subjects: Sequence[str], *, ack_wait: float = 30.0, max_deliver: int = 5
    ) -> MemoryConsumer:
        """A pull consumer of `durable`; ValueError if `subjects` overlap another
        durable's filter, or `durable` exists with a different configuration."""
        return self._queue.consumer(durable, subjects, ack_wait, max_deliver)

    def _reap(self) -> None:
        """Act on the deadlines `clock` has passed (the timer does this by itself)."""
        self._queue.reap()

    async def close(self) -> None:
        """Stop serving, end subscriptions, wake waiting fetches; idempotent."""
        self._closed = True
        self._queue.close()
        await self._router.close()

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosed("the bus is closed")

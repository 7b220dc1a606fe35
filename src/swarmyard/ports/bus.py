"""The Bus port: pub/sub, request/reply and a durable work queue (in-process
or NATS JetStream)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Bus", "BusClosed", "BusMessage", "Consumer", "Subscription", "WorkItem"]


@dataclass(frozen=True, slots=True)
class BusMessage:
    subject: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)
    reply: str | None = None


class BusClosed(RuntimeError):
    """The subscription, consumer or bus was closed."""


class Subscription(Protocol):
    """Messages matching a subject pattern (``*`` one token, ``>`` the rest),
    in publish order. After `unsubscribe()` (or the bus's `close()`) iteration
    ends and queued messages are dropped."""

    def __aiter__(self) -> AsyncIterator[BusMessage]: ...
    async def next(self, timeout: float | None = None) -> BusMessage:
        """Raises TimeoutError when nothing arrives in time, BusClosed once closed."""
        ...

    async def unsubscribe(self) -> None: ...


class WorkItem(Protocol):
    subject: str
    data: bytes
    msg_id: str
    delivery: int  # 1 on the first delivery

    async def ack(self) -> None:
        """Done: the message leaves the queue (from whichever delivery it came)."""
        ...

    async def nak(self, delay: float = 0.0) -> None:
        """Give it back, to be redelivered after `delay` seconds."""
        ...

    async def in_progress(self) -> None:
        """Still working: restart the ack deadline."""
        ...

    async def term(self) -> None:
        """Never redeliver."""
        ...


class Consumer(Protocol):
    async def fetch(self, batch: int = 1, timeout: float = 1.0) -> list[WorkItem]:
        """Up to `batch` items, waiting up to `timeout` for the first; an empty
        list (never an exception) when none came in time. BusClosed once closed."""
        ...

    async def close(self) -> None: ...


class Bus(Protocol):
    async def publish(
        self, subject: str, data: bytes, *, headers: dict[str, str] | None = None
    ) -> None:
        """Fire-and-forget to current subscribers."""
        ...

    async def subscribe(self, pattern: str) -> Subscription: ...
    async def request(self, subject: str, data: bytes, *, timeout: float) -> BusMessage:
        """Send and wait for one reply; TimeoutError when none comes (or nobody listens)."""
        ...

    async def serve(
        self, subject: str, handler: Callable[[BusMessage], Awaitable[bytes]]
    ) -> Subscription:
        """Answer requests on `subject` with `handler`'s bytes. Servers of one
        subject form a queue group: each request reaches one of them. A handler
        that raises sends no reply. The result only supports `unsubscribe()`."""
        ...

    async def enqueue(self, subject: str, data: bytes, *, msg_id: str) -> bool:
        """Put a message on the durable work queue; False if `msg_id` was seen
        within the deduplication window."""
        ...

    async def consumer(
        self, durable: str, subjects: Sequence[str], *, ack_wait: float = 30.0, max_deliver: int = 5
    ) -> Consumer:
        """A durable pull consumer of work-queue messages on `subjects`
        (patterns allowed). Each message goes to one consumer of a durable
        name; unacked ones come back after `ack_wait`; after `max_deliver`
        deliveries one is moved to ``swarmyard.deadletter.<subject>`` with the
        headers named in `domain.subjects` (DEADLETTER_*). ValueError when
        `subjects` overlap another durable's filter (each message belongs to
        one durable) or `durable` exists with another configuration."""
        ...

    async def close(self) -> None: ...

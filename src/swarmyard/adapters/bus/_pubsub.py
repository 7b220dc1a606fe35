"""Publish/subscribe and request serving for the in-process bus.

Delivery promise: at most once. A message reaches the subscriptions that
exist when it is published, once each, in publish order; nothing is stored
for later subscribers, and whatever sits in a subscription's queue is gone
when it unsubscribes or the process stops. Anything that must not be lost
goes through the outbox and the work queue instead.

Each subscription has an unbounded queue, so a publisher never waits for a
slow subscriber and nothing is dropped while the subscriber lives; the price
is memory growth if a subscriber stops reading without unsubscribing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from swarmyard.ports import BusClosed, BusMessage

from ._subjects import SubjectTrie, split_pattern, split_subject

__all__ = ["Mailbox", "MailboxSubscription", "MemorySubscription", "Router", "Server"]

_log = logging.getLogger(__name__)

Handler = Callable[[BusMessage], Awaitable[bytes]]


class _Sink(Protocol):
    def deliver(self, message: BusMessage) -> None: ...


class Mailbox:
    """An unbounded FIFO that a closer can interrupt (the NATS bus's
    subscriptions queue into one too, so both buses behave alike)."""

    __slots__ = ("_closed", "_items", "_ready", "_what")

    def __init__(self, what: str) -> None:
        self._what = what
        self._items: deque[BusMessage] = deque()
        # One Event for every waiter: put() wakes them all and each re-checks,
        # which stays correct when a waiter is cancelled after being woken.
        self._ready = asyncio.Event()
        self._closed = False

    def put(self, message: BusMessage) -> None:
        if not self._closed:
            self._items.append(message)
            self._ready.set()

    async def get(self, within: float | None) -> BusMessage:
        async with asyncio.timeout(within):
            while not self._items:
                if self._closed:
                    raise BusClosed(f"{self._what} is closed")
                self._ready.clear()
                await self._ready.wait()
        return self._items.popleft()

    def close(self) -> None:
        self._closed = True
        self._items.clear()  # unsubscribing means "stop now", not "after the backlog"
        self._ready.set()


class MailboxSubscription:
    """Messages on one pattern, read from a `Mailbox`: the reading half that
    the in-process and the NATS subscriptions share. Iteration ends when the
    mailbox is closed (unsubscribed)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._mailbox = Mailbox(f"subscription to {pattern!r}")
        self._active = True

    def __aiter__(self) -> AsyncIterator[BusMessage]:
        return self

    async def __anext__(self) -> BusMessage:
        try:
            return await self._mailbox.get(None)
        except BusClosed:
            raise StopAsyncIteration from None

    async def next(self, timeout: float | None = None) -> BusMessage:
        """Raises TimeoutError when nothing arrives in time, BusClosed once
        unsubscribed."""
        return await self._mailbox.get(timeout)


class MemorySubscription(MailboxSubscription):
    def __init__(self, pattern: str, detach: Callable[[MemorySubscription], None]) -> None:
        super().__init__(pattern)
        self._detach = detach

    def deliver(self, message: BusMessage) -> None:
        self._mailbox.put(message)

    async def unsubscribe(self) -> None:
        self.close()

    def close(self) -> None:
        if self._active:
            self._active = False
            self._detach(self)
            self._mailbox.close()


class _QueueGroup:
    """Servers of one subject: each request goes to one of them, in turn."""

    __slots__ = ("_turn", "members")

    def __init__(self) -> None:
        self.members: list[MemorySubscription] = []
        self._turn = 0

    def deliver(self, message: BusMessage) -> None:
        self._turn = (self._turn + 1) % len(self.members)
        self.members[self._turn].deliver(message)


class Server:
    """Answers the requests of one queue-group member, one at a time.

    One at a time, as a NATS subscription callback would; call `serve` again
    for more concurrency. A handler that raises sends no reply (the requester
    times out) and the server goes on with the next request.
    """

    def __init__(
        self,
        subject: str,
        inbox: MemorySubscription,
        handler: Handler,
        reply: Callable[[BusMessage], object],
        forget: Callable[[Server], None],
    ) -> None:
        self.subject = subject
        self._inbox = inbox
        self._handler = handler
        self._reply = reply
        self._forget = forget
        self._task = asyncio.create_task(self._run(), name=f"serve {subject}")

    def __aiter__(self) -> AsyncIterator[BusMessage]:
        raise TypeError("a serving subscription hands its messages to the handler")

    async def next(self, timeout: float | None = None) -> BusMessage:
        raise TypeError("a serving subscription hands its messages to the handler")

    async def unsubscribe(self) -> None:
        self._inbox.close()
        self._forget(self)
        if self._task is asyncio.current_task():
            return  # the handler stopping its own server: the loop ends on its own
        self._task.cancel()
        await asyncio.wait([self._task])

    async def _run(self) -> None:
        async for request in self._inbox:
            try:
                answer = await self._handler(request)
            except Exception:
                _log.exception("handler for %r failed; the request gets no reply", self.subject)
                continue
            if request.reply is not None:
                self._reply(BusMessage(subject=request.reply, data=answer))


class Router:
    """The subscription table: which subscriptions a subject reaches."""

    def __init__(self) -> None:
        self._sinks: SubjectTrie[_Sink] = SubjectTrie()
        self._groups: dict[str, _QueueGroup] = {}
        self._servers: set[Server] = set()
        self._closed = False

    def __len__(self) -> int:
        """Live entries in the table (a queue group counts once)."""
        return len(self._sinks)

    def route(self, message: BusMessage) -> int:
        """Deliver to every matching subscription now; how many took it."""
        sinks = self._sinks.match(split_subject(message.subject))
        for sink in sinks:
            sink.deliver(message)
        return len(sinks)

    def subscribe(self, pattern: str) -> MemorySubscription:
        self._check_open()
        tokens = split_pattern(pattern)
        subscription = MemorySubscription(pattern, self._detach)
        self._sinks.insert(tokens, subscription)
        return subscription

    def serve(self, subject: str, handler: Handler) -> Server:
        self._check_open()
        tokens = split_pattern(subject)
        inbox = MemorySubscription(subject, self._leave_group)
        group = self._groups.get(subject)
        if group is None:
            group = self._groups[subject] = _QueueGroup()
            self._sinks.insert(tokens, group)
        group.members.append(inbox)
        server = Server(subject, inbox, handler, self.route, self._servers.discard)
        self._servers.add(server)
        return server

    async def close(self) -> None:
        self._closed = True
        for server in list(self._servers):
            await server.unsubscribe()
        for sink in list(self._sinks.values()):
            if isinstance(sink, MemorySubscription):
                sink.close()

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosed("the bus is closed")

    def _detach(self, subscription: MemorySubscription) -> None:
        self._sinks.remove(split_pattern(subscription.pattern), subscription)

    def _leave_group(self, inbox: MemorySubscription) -> None:
        group = self._groups[inbox.pattern]
        group.members.remove(inbox)
        if not group.members:
            del self._groups[inbox.pattern]
            self._sinks.remove(split_pattern(inbox.pattern), group)

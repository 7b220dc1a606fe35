"""Subscriptions and request servers of the NATS bus, on core NATS.

Core NATS gives the promises of the in-process bus's pub/sub: at most once,
in publish order per publisher, to the subscriptions that exist when the
server routes the message. Each subscription hands its messages to the
same unbounded `Mailbox` the in-process bus uses, so `next`, iteration and
`unsubscribe` behave identically on both buses, and nats-py's own bounded
queue never fills behind a slow reader.

Request servers read their mailbox in a task of their own rather than in
nats-py's callback: a handler that stops its own server (or takes long)
then never cancels, or is cancelled by, nats-py's delivery task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as CoreSubscription

from swarmyard.ports import BusClosed, BusMessage

from ._pubsub import Mailbox, MailboxSubscription

__all__ = ["QUEUE_GROUP", "NatsServer", "NatsSubscription"]

_log = logging.getLogger(__name__)

Handler = Callable[[BusMessage], Awaitable[bytes]]

# NATS keys queue groups by (subject, name): one fixed name gives every served
# subject a group of its own, as the port asks.
QUEUE_GROUP = "swarmyard"

# Unsubscribing from a connection that is closing or gone has nothing left to undo.
_GONE = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionDrainingError,
    nats.errors.BadSubscriptionError,
)


def _message(msg: Msg) -> BusMessage:
    return BusMessage(
        subject=msg.subject, data=msg.data, headers=dict(msg.headers or {}), reply=msg.reply or None
    )


class NatsSubscription(MailboxSubscription):
    def __init__(self, pattern: str, forget: Callable[[NatsSubscription], None]) -> None:
        super().__init__(pattern)
        self._forget = forget
        self._core: CoreSubscription | None = None

    async def start(self, nc: Client) -> None:
        self._core = await nc.subscribe(self.pattern, cb=self._receive)
        # Registered at the server before we return: a message published
        # afterwards, from any process, reaches this subscription.
        await nc.flush()

    async def _receive(self, msg: Msg) -> None:
        self._mailbox.put(_message(msg))

    async def unsubscribe(self) -> None:
        if not self._active:
            return
        self.close()
        if self._core is not None:
            with contextlib.suppress(*_GONE):
                await self._core.unsubscribe()

    def close(self) -> None:
        """End iteration now; the connection's drain or close removes the
        interest at the server."""
        if self._active:
            self._active = False
            self._mailbox.close()
            self._forget(self)


class NatsServer:
    """One member of a subject's queue group, answering one request at a time
    (call `serve` again for more concurrency). A handler that raises sends
    no reply: the requester times out."""

    def __init__(
        self, subject: str, handler: Handler, forget: Callable[[NatsServer], None]
    ) -> None:
        self.subject = subject
        self._handler = handler
        self._forget = forget
        self._mailbox = Mailbox(f"server of {subject!r}")
        self._core: CoreSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._active = True

    async def start(self, nc: Client) -> None:
        self._core = await nc.subscribe(self.subject, queue=QUEUE_GROUP, cb=self._receive)
        await nc.flush()
        self._task = asyncio.create_task(self._run(nc), name=f"serve {self.subject}")

    async def _receive(self, msg: Msg) -> None:
        self._mailbox.put(_message(msg))

    def __aiter__(self) -> AsyncIterator[BusMessage]:
        raise TypeError("a serving subscription hands its messages to the handler")

    async def next(self, timeout: float | None = None) -> BusMessage:
        raise TypeError("a serving subscription hands its messages to the handler")

    async def unsubscribe(self) -> None:
        if not self._active:
            return
        self._active = False
        self._mailbox.close()
        self._forget(self)
        if self._core is not None:
            with contextlib.suppress(*_GONE):
                await self._core.unsubscribe()
        task = self._task
        if task is None or task is asyncio.current_task():
            return  # the handler stopping its own server: the loop ends on its own
        task.cancel()
        await asyncio.wait([task])

    async def _run(self, nc: Client) -> None:
        while True:
            try:
                request = await self._mailbox.get(None)
            except BusClosed:
                return
            try:
                answer = await self._handler(request)
            except Exception:
                _log.exception("handler for %r failed; the request gets no reply", self.subject)
                continue
            if request.reply is None:
                continue
            try:
                await nc.publish(request.reply, answer)
            except nats.errors.Error:
                _log.warning("reply on %r not sent: the connection is gone", self.subject)

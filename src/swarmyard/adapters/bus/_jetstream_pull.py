"""Reading the work queue's JetStream consumers: fetches, work items, dead letters.

Fetching does not use nats-py's `fetch`, which, once it has waited, keeps
waiting for a full batch until its timeout. Here a fetch first asks each
consumer of the durable (in turn, the first one rotating so none starves)
for what is ready, without waiting; only if nothing is, it long-polls for
a single message (so no pull request outlives the fetch), then tops the
batch up without waiting. A durable of one pattern (what workers use)
long-polls for the whole timeout; one of several polls its consumers in
turn, a quarter second each, so an idle fetch notices a message on a quiet
pattern within (patterns - 1) / 4 s.

**Dead letters.** The JetStream consumers redeliver without limit; the
adapter counts. A nak of the `max_deliver`-th delivery publishes the
message to ``swarmyard.deadletter.<subject>`` with the DEADLETTER_* headers
and terms it, at once. A `max_deliver`-th delivery that is left to expire
comes back from the server one more time; the fetch that receives it
dead-letters it the same way instead of handing it out (so it happens at
the durable's next fetch, which workers issue every second). Keeping the
server's limit out of it means no message is ever stranded in the stream
by a server-side limit that nobody reacts to. Dead letters are published
on core NATS, like the in-process bus does: subscribe to
``swarmyard.deadletter.>`` to keep them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as CoreSubscription

from swarmyard.domain.subjects import (
    DEAD_LETTER_PREFIX,
    DEADLETTER_DELIVERIES,
    DEADLETTER_DURABLE,
    DEADLETTER_MSG_ID,
)
from swarmyard.ports import BusClosed, WorkItem

from ._jetstream import MSG_ID_HEADER, DurableSpec, WorkStream

__all__ = ["NatsConsumer", "NatsWorkItem"]

_log = logging.getLogger(__name__)

_SLICE = 0.25  # seconds each consumer of a several-pattern durable is long-polled in turn
# How long past a pull request's expiry to wait for the server's answer to
# it, so that no request is left outstanding when a fetch returns.
_GRACE = 1.0
_SETTLE_TIMEOUT = 5.0  # seconds to wait for the server to confirm an ack, nak or term
_END_OF_PULL = frozenset({"404", "408"})  # no messages / request expired
_HEARTBEAT = "100"


class NatsWorkItem:
    """One delivery of one work-queue message. Acks, naks and terms wait for
    the server's confirmation; one that is not confirmed (the connection is
    down) is logged, and the message comes back after `ack_wait` as after
    any lost ack."""

    __slots__ = ("_consumer", "_reply", "_settled", "data", "delivery", "msg_id", "subject")

    def __init__(self, consumer: NatsConsumer, msg: Msg, subject: str) -> None:
        self._consumer = consumer
        self._reply = msg.reply
        self._settled = False
        self.subject = subject
        self.data = msg.data
        self.msg_id = (msg.headers or {}).get(MSG_ID_HEADER, "")
        self.delivery = msg.metadata.num_delivered

    def __repr__(self) -> str:
        return f"NatsWorkItem({self.subject!r}, msg_id={self.msg_id!r}, delivery={self.delivery})"

    async def ack(self) -> None:
        """Done: the message leaves the queue."""
        self._settled = True
        await self._send(b"+ACK")

    async def nak(self, delay: float = 0.0) -> None:
        """Give it back, to be redelivered after `delay` seconds; dead-letter it
        if this was its last delivery."""
        if self._settled:
            return
        if self.delivery >= self._consumer.spec.max_deliver:
            await self.dead_letter(self.delivery)
            return
        token = b"-NAK"
        if delay > 0:
            token += b" " + json.dumps({"delay": int(delay * 1e9)}).encode()
        await self._send(token)

    async def in_progress(self) -> None:
        """Still working: restart the ack deadline."""
        if not self._settled:
            await self._send(b"+WPI")

    async def term(self) -> None:
        """Never redeliver."""
        self._settled = True
        await self._send(b"+TERM")

    async def dead_letter(self, deliveries: int) -> None:
        """Publish the message to the dead-letter subject, then drop it. Published
        first: a crash in between repeats the dead letter rather than losing it."""
        self._settled = True
        await self._consumer.nc.publish(
            f"{DEAD_LETTER_PREFIX}.{self.subject}",
            self.data,
            headers={
                DEADLETTER_MSG_ID: self.msg_id,
                DEADLETTER_DELIVERIES: str(deliveries),
                DEADLETTER_DURABLE: self._consumer.spec.name,
            },
        )
        await self._send(b"+TERM")

    async def _send(self, token: bytes) -> None:
        try:
            await self._consumer.nc.request(self._reply, token, timeout=_SETTLE_TIMEOUT)
        except nats.errors.Error as exc:
            _log.warning(
                "%s of %r (msg_id %r) not confirmed by the server (%s); it comes back "
                "after ack_wait",
                token.split()[0].decode(),
                self.subject,
                self.msg_id,
                type(exc).__name__,
            )


class NatsConsumer:
    """A pull consumer of one durable on one connection; several may share
    the durable, in this process or others. One fetch at a time per object."""

    def __init__(
        self,
        stream: WorkStream,
        nc: Client,
        spec: DurableSpec,
        members: list[str],
        forget: Callable[[NatsConsumer], None],
    ) -> None:
        self._stream = stream
        self.nc = nc
        self.spec = spec
        self._members = members
        self._forget = forget
        self._turn = 0
        self._inbox = nc.new_inbox()
        self._requests = itertools.count(1)
        # Deliveries and the server's status replies, in arrival order; None wakes a waiting fetch.
        self._arrivals: asyncio.Queue[Msg | None] = asyncio.Queue()
        self._core: CoreSubscription | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def durable(self) -> str:
        return self.spec.name

    async def start(self) -> None:
        self._core = await self.nc.subscribe(f"{self._inbox}.*", cb=self._receive)

    async def _receive(self, msg: Msg) -> None:
        self._arrivals.put_nowait(msg)

    async def fetch(self, batch: int = 1, timeout: float = 1.0) -> list[WorkItem]:
        """Up to `batch` items, waiting up to `timeout` seconds for the first;
        an empty list when none came in time or the consumer was closed meanwhile."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, not {batch}")
        if self._closed:
            raise BusClosed(f"consumer of durable {self.spec.name!r} is closed")
        async with self._lock:
            if self._closed:
                return []
            try:
                items = await self._ready(batch)
                if items or timeout <= 0:
                    return items
                return await self._wait(batch, timeout)
            except nats.errors.ConnectionClosedError:
                raise BusClosed(f"the connection of durable {self.spec.name!r} is closed") from None

    async def close(self) -> None:
        """Stop fetching; items handed out and not acked come back after their
        ack_wait, deliveries received but not handed out come back at once."""
        if self._closed:
            return
        self._closed = True
        self._arrivals.put_nowait(None)
        async with self._lock:
            for msg in self._drain(None):
                with contextlib.suppress(nats.errors.Error):
                    await self.nc.publish(msg.reply, b"-NAK")
            if self._core is not None:
                with contextlib.suppress(
                    nats.errors.ConnectionClosedError,
                    nats.errors.ConnectionDrainingError,
                    nats.errors.BadSubscriptionError,
                ):
                    await self._core.unsubscribe()
        self._forget(self)

    # ----------------------------------------------------------- fetching

    def _rotation(self) -> list[str]:
        """The member consumers, starting one further on at each call."""
        start = self._turn % len(self._members)
        self._turn += 1
        return self._members[start:] + self._members[:start]

    async def _ready(self, wanted: int) -> list[WorkItem]:
        """What is ready now, without waiting: late deliveries of earlier pull
        requests first, then each member consumer in turn."""
        items: list[WorkItem] = [
            i for msg in self._drain(wanted) if (i := await self._admit(msg)) is not None
        ]
        for member in self._rotation():
            if len(items) >= wanted:
                break
            items += await self._pull(member, wanted - len(items), wait=None)
        return items

    async def _wait(self, batch: int, timeout: float) -> list[WorkItem]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._closed:
            left = deadline - loop.time()
            if left <= 0:
                break
            member = self._rotation()[0]
            span = left if len(self._members) == 1 else min(left, _SLICE)
            first = await self._pull(member, 1, wait=span)
            if first:
                return [*first, *(await self._ready(batch - 1) if batch > 1 else [])]
        return []

    async def _pull(self, member: str, wanted: int, *, wait: float | None) -> list[WorkItem]:
        """One pull request: up to `wanted` messages, at once (`wait` None) or
        waiting up to `wait` seconds for the first."""
        reply = f"{self._inbox}.{next(self._requests)}"
        request: dict[str, object] = {"batch": wanted}
        if wait is None:
            request["no_wait"] = True
        else:
            request["expires"] = max(1, int(wait * 1e9))
        await self.nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self._stream.name}.{member}",
            json.dumps(request).encode(),
            reply=reply,
        )
        span_end = asyncio.get_running_loop().time() + (wait or 0.0)
        give_up = span_end + _GRACE
        refused = False
        items: list[WorkItem] = []
        received = 0
        while received < wanted:
            try:
                async with asyncio.timeout_at(give_up):
                    msg = await self._arrivals.get()
            except TimeoutError:
                if not refused:
                    _log.warning("no answer from JetStream to a pull on %r", member)
                break
            if msg is None:  # closing
                break
            if msg.reply:  # a delivery; the server's status replies have no reply subject
                received += 1
                if (item := await self._admit(msg)) is not None:
                    items.append(item)
            elif msg.subject == reply and not refused:  # this request's status (others' are stale)
                status = (msg.headers or {}).get("Status")
                if status in _END_OF_PULL:
                    break
                if status != _HEARTBEAT:
                    # Consumer deleted, too many waiting pulls...: sit out the span
                    # the request asked for rather than asking again at once.
                    _log.warning("pull on %r refused by JetStream: %s", member, msg.headers)
                    refused = True
                    give_up = span_end
        return items

    def _drain(self, wanted: int | None) -> list[Msg]:
        """Deliveries already received (of pull requests given up on), without
        waiting; status replies in between are stale and dropped."""
        found: list[Msg] = []
        while not self._arrivals.empty() and (wanted is None or len(found) < wanted):
            msg = self._arrivals.get_nowait()
            if msg is not None and msg.reply:
                found.append(msg)
        return found

    async def _admit(self, msg: Msg) -> NatsWorkItem | None:
        """The work item, or None if the message was dead-lettered instead: a
        delivery past `max_deliver` means its last delivery expired unacked."""
        item = NatsWorkItem(self, msg, self._stream.unwire(msg.subject))
        if item.delivery > self.spec.max_deliver:
            await item.dead_letter(self.spec.max_deliver)
            return None
        return item

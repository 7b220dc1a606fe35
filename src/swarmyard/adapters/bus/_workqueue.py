"""The durable work queue of the in-process bus, with JetStream's WorkQueue semantics.

Delivery promise: at least once. An enqueued message stays until a consumer
acks or terms it, or it is dead-lettered; one that is not acked within
`ack_wait` comes back, so a handler may see the same message more than
once and must be idempotent (runs are fenced by their attempt number).
"Durable" means it outlives consumers, not the process: the outbox in the
database is what survives a restart in embedded mode.

The rules mirror JetStream so that code tested here behaves the same on
NATS: publishes are deduplicated by message id within a window; each
message belongs to the one durable consumer whose filter matches it (two
durables with overlapping filters are refused); consumers sharing a
durable name share its messages; messages waiting before any consumer
exists are kept for the first matching one; after `max_deliver` deliveries
a message leaves the queue and is published to
``swarmyard.deadletter.<subject>`` with headers saying what happened.

Time comes from an injected monotonic clock, so tests move deadlines
without sleeping and then call `reap()`; in production a single event-loop
timer, armed for the earliest deadline, calls `reap()` itself.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from swarmyard.domain.subjects import (
    DEAD_LETTER_PREFIX,
    DEADLETTER_DELIVERIES,
    DEADLETTER_DURABLE,
    DEADLETTER_MSG_ID,
)
from swarmyard.ports import BusClosed, BusMessage, WorkItem

from ._subjects import SubjectTrie, patterns_overlap, split_pattern, split_subject

__all__ = [
    "DEADLETTER_DELIVERIES",
    "DEADLETTER_DURABLE",
    "DEADLETTER_MSG_ID",
    "MemoryConsumer",
    "MemoryWorkItem",
    "WorkQueue",
]


class _State(Enum):
    READY = "ready"
    IN_FLIGHT = "in_flight"
    DELAYED = "delayed"
    DONE = "done"


@dataclass(eq=False, slots=True)
class _Durable:
    name: str
    filters: tuple[str, ...]
    ack_wait: float
    max_deliver: int
    live: dict[int, _Entry] = field(default_factory=dict)  # by sequence, until settled
    ready: list[int] = field(default_factory=list)  # heap of sequences: oldest first
    changed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False, slots=True)
class _Entry:
    seq: int
    subject: str
    data: bytes
    msg_id: str
    durable: _Durable | None = None
    deliveries: int = 0
    state: _State = _State.READY
    # Bumped on every state change: a timer or an item holding an older
    # version is out of date and does nothing.
    version: int = 0


class WorkQueue:
    """Every work-queue message of one bus, the durables and their timers."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        dedup_window: float,
        publish: Callable[[BusMessage], object],
    ) -> None:
        if dedup_window < 0:
            raise ValueError(f"dedup_window must be >= 0, not {dedup_window}")
        self._clock = clock
        self._dedup_window = dedup_window
        self._publish = publish
        self._seq = itertools.count(1)
        self._seen: dict[str, float] = {}  # msg_id -> end of its dedup window
        self._seen_order: deque[tuple[float, str]] = deque()
        self._durables: dict[str, _Durable] = {}
        self._routes: SubjectTrie[_Durable] = SubjectTrie()
        self._orphans: dict[int, _Entry] = {}  # no durable matches them yet
        self._timers: list[tuple[float, int, int, _Entry]] = []  # (when, tiebreak, version, entry)
        self._tiebreak = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0
        self._closed = False

    # ----------------------------------------------------------- producers

    def enqueue(self, subject: str, data: bytes, msg_id: str) -> bool:
        self._check_open()
        tokens = split_subject(subject)
        if not msg_id:
            raise ValueError("msg_id must not be empty: it is the deduplication key")
        now = self._clock()
        self._forget_seen(now)
        if msg_id in self._seen:
            return False
        self._seen[msg_id] = now + self._dedup_window
        self._seen_order.append((now + self._dedup_window, msg_id))
        entry = _Entry(next(self._seq), subject, data, msg_id)
        durables = self._routes.match(tokens)
        if durables:
            self._adopt(durables[0], entry)
        else:
            self._orphans[entry.seq] = entry
        return True

    def _forget_seen(self, now: float) -> None:
        while self._seen_order and self._seen_order[0][0] <= now:
            until, msg_id = self._seen_order.popleft()
            # A later enqueue of the same id may have opened a newer window.
            if self._seen.get(msg_id) == until:
                del self._seen[msg_id]

    # ----------------------------------------------------------- consumers

    def consumer(
        self, name: str, subjects: Sequence[str], ack_wait: float, max_deliver: int
    ) -> MemoryConsumer:
        self._check_open()
        if isinstance(subjects, str):
            raise TypeError("subjects is a sequence of patterns, not one string")
        if not name or not subjects:
            raise ValueError("a consumer needs a durable name and at least one subject")
        if ack_wait <= 0 or max_deliver < 1:
            raise ValueError("ack_wait must be > 0 and max_deliver >= 1")
        filters = tuple(dict.fromkeys(subjects))
        durable = self._durables.get(name)
        if durable is None:
            durable = self._create(name, filters, ack_wait, max_deliver)
        elif (set(durable.filters), durable.ack_wait, durable.max_deliver) != (
            set(filters),
            ack_wait,
            max_deliver,
        ):
            raise ValueError(
                f"durable {name!r} already exists with subjects {list(durable.filters)}, "
                f"ack_wait={durable.ack_wait}, max_deliver={durable.max_deliver}"
            )
        return MemoryConsumer(self, durable)

    def _create(
        self, name: str, filters: tuple[str, ...], ack_wait: float, max_deliver: int
    ) -> _Durable:
        patterns = [(f, split_pattern(f)) for f in filters]
        for other in self._durables.values():
            for mine in patterns:
                for theirs in other.filters:
                    if patterns_overlap(mine[1], split_pattern(theirs)):
                        raise ValueError(
                            f"durable {name!r}: filter {mine[0]!r} overlaps {theirs!r} of "
                            f"durable {other.name!r}; on a work queue each message goes to "
                            "one consumer group only"
                        )
        durable = _Durable(name, filters, ack_wait, max_deliver)
        self._durables[name] = durable
        for _, tokens in patterns:
            self._routes.insert(tokens, durable)
        for seq, entry in list(self._orphans.items()):
            if durable in self._routes.match(split_subject(entry.subject)):
                del self._orphans[seq]
                self._adopt(durable, entry)
        return durable

    def take(self, durable: _Durable, batch: int) -> list[WorkItem]:
        """Deliver up to `batch` ready messages of `durable`, oldest first."""
        items: list[WorkItem] = []
        deadline = self._clock() + durable.ack_wait
        while durable.ready and len(items) < batch:
            entry = durable.live.get(heapq.heappop(durable.ready))
            if entry is None or entry.state is not _State.READY:
                continue  # settled while waiting, or a duplicate heap slot
            entry.deliveries += 1
            self._move(entry, _State.IN_FLIGHT, deadline)
            items.append(MemoryWorkItem(self, entry))
        if items:
            self._arm()
        return items

    # ----------------------------------------------------------- outcomes

    def settle(self, entry: _Entry) -> None:
        """Acked or termed: gone for good (whichever delivery it came from)."""
        if entry.state is not _State.DONE and not self._closed:
            self._drop(entry)

    def give_back(self, entry: _Entry, delivery: int, delay: float) -> None:
        if self._is_current(entry, delivery):
            self._return(entry, delay)

    def touch(self, entry: _Entry, delivery: int) -> None:
        if self._is_current(entry, delivery):
            assert entry.durable is not None
            self._move(entry, _State.IN_FLIGHT, self._clock() + entry.durable.ack_wait)
            self._arm()

    def _is_current(self, entry: _Entry, delivery: int) -> bool:
        # A nak or in_progress from an older delivery must not disturb the
        # consumer that holds the message now.
        return not self._closed and entry.state is _State.IN_FLIGHT and entry.deliveries == delivery

    def _return(self, entry: _Entry, delay: float) -> None:
        durable = entry.durable
        assert durable is not None
        if entry.deliveries >= durable.max_deliver:
            self._drop(entry)
            self._publish(
                BusMessage(
                    subject=f"{DEAD_LETTER_PREFIX}.{entry.subject}",
                    data=entry.data,
                    headers={
                        DEADLETTER_MSG_ID: entry.msg_id,
                        DEADLETTER_DELIVERIES: str(entry.deliveries),
                        DEADLETTER_DURABLE: durable.name,
                    },
                )
            )
        elif delay > 0:
            self._move(entry, _State.DELAYED, self._clock() + delay)
            self._arm()
        else:
            self._make_ready(entry)

    # ----------------------------------------------------------- timers

    def reap(self) -> None:
        """Act on every deadline the clock has passed, then re-arm the timer."""
        if self._closed:
            return
        now = self._clock()
        while self._timers and self._timers[0][0] <= now:
            _, _, version, entry = heapq.heappop(self._timers)
            if version != entry.version:
                continue
            if entry.state is _State.IN_FLIGHT:  # ack_wait ran out
                self._return(entry, 0.0)
            elif entry.state is _State.DELAYED:
                self._make_ready(entry)
        self._arm()

    def _arm(self) -> None:
        while self._timers and self._timers[0][2] != self._timers[0][3].version:
            heapq.heappop(self._timers)  # stale: would only wake the loop for nothing
        if self._closed or not self._timers:
            return
        when = self._timers[0][0]
        if self._timer is not None:
            if self._timer_when <= when:
                return
            self._timer.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(0.0, when - self._clock()), self._on_timer)
        self._timer_when = when

    def _on_timer(self) -> None:
        self._timer = None
        self.reap()

    # ----------------------------------------------------------- state

    def _adopt(self, durable: _Durable, entry: _Entry) -> None:
        entry.durable = durable
        durable.live[entry.seq] = entry
        self._make_ready(entry)

    def _make_ready(self, entry: _Entry) -> None:
        durable = entry.durable
        assert durable is not None
        self._move(entry, _State.READY)
        heapq.heappush(durable.ready, entry.seq)
        durable.changed.set()

    def _drop(self, entry: _Entry) -> None:
        assert entry.durable is not None
        self._move(entry, _State.DONE)
        del entry.durable.live[entry.seq]

    def _move(self, entry: _Entry, state: _State, when: float | None = None) -> None:
        entry.state = state
        entry.version += 1
        if when is not None:
            heapq.heappush(self._timers, (when, next(self._tiebreak), entry.version, entry))

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosed("the bus is closed")

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for durable in self._durables.values():
            durable.changed.set()  # wake every waiting fetch so it returns


class MemoryWorkItem:
    """One delivery of one work-queue message."""

    __slots__ = ("_entry", "_queue", "data", "delivery", "msg_id", "subject")

    def __init__(self, queue: WorkQueue, entry: _Entry) -> None:
        self._queue = queue
        self._entry = entry
        self.subject = entry.subject
        self.data = entry.data
        self.msg_id = entry.msg_id
        self.delivery = entry.deliveries

    def __repr__(self) -> str:
        return f"MemoryWorkItem({self.subject!r}, msg_id={self.msg_id!r}, delivery={self.delivery})"

    async def ack(self) -> None:
        self._queue.settle(self._entry)

    async def nak(self, delay: float = 0.0) -> None:
        """Give it back, to be redelivered after `delay` seconds."""
        self._queue.give_back(self._entry, self.delivery, delay)

    async def in_progress(self) -> None:
        """Still working: restart the ack deadline."""
        self._queue.touch(self._entry, self.delivery)

    async def term(self) -> None:
        """Never redeliver."""
        self._queue.settle(self._entry)


class MemoryConsumer:
    """A pull consumer bound to one durable; several may share it."""

    def __init__(self, queue: WorkQueue, durable: _Durable) -> None:
        self._queue = queue
        self._durable = durable
        self._closed = False

    @property
    def durable(self) -> str:
        return self._durable.name

    async def fetch(self, batch: int = 1, timeout: float = 1.0) -> list[WorkItem]:
        """Up to `batch` items, waiting up to `timeout` seconds for the first;
        an empty list when none came in time or the consumer was closed meanwhile."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, not {batch}")
        if self._closed or self._queue.closed:
            raise BusClosed(f"consumer of durable {self._durable.name!r} is closed")
        changed = self._durable.changed
        items = self._queue.take(self._durable, batch)
        if items or timeout <= 0:
            return items
        try:
            async with asyncio.timeout(timeout):
                while not items:
                    # No await between take() and clear(): nothing can slip in
                    # between, and every waiter re-checks after a wake-up.
                    changed.clear()
                    await changed.wait()
                    if self._closed or self._queue.closed:
                        return []
                    items = self._queue.take(self._durable, batch)
        except TimeoutError:
            return []
        return items

    async def close(self) -> None:
        """Stop fetching; messages this consumer holds unacked come back after
        their ack_wait, like any other."""
        self._closed = True
        self._durable.changed.set()

"""What the in-process bus promises beyond the port's conformance suite.

Time-driven behaviour runs on a hand-moved clock and explicit `_reap()`
calls, so none of these tests waits for real time to pass.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest

from swarmyard.adapters.bus import MemoryBus, create_bus
from swarmyard.adapters.bus._subjects import SubjectTrie, patterns_overlap
from swarmyard.domain import subjects
from swarmyard.ports import BusClosed, BusMessage, WorkItem

SUBJECT = subjects.tasks_ready("ws1", "developer")
DEAD = f"{subjects.DEAD_LETTER_PREFIX}.{SUBJECT}"


class Ticker:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Ticker:
    return Ticker()


@pytest.fixture
async def bus(clock: Ticker) -> AsyncIterator[MemoryBus]:
    instance = MemoryBus(clock=clock, dedup_window=10)
    yield instance
    await instance.close()


async def _one(items: list[WorkItem]) -> WorkItem:
    assert len(items) == 1
    return items[0]


# --------------------------------------------------------------------------- create_bus


@pytest.mark.parametrize("url", ["", "memory", "memory://"])
async def test_create_bus_gives_the_memory_bus(url: str) -> None:
    bus = create_bus(url)
    assert isinstance(bus, MemoryBus)
    await bus.close()


async def test_create_bus_gives_the_nats_bus_for_a_nats_url() -> None:
    from swarmyard.adapters.bus.nats import NatsBus

    bus = create_bus("nats://localhost:4222")  # connects on first use only
    assert isinstance(bus, NatsBus)
    await bus.close()


@pytest.mark.parametrize(("url", "named"), [("redis://x:6379", "'redis'"), ("kafka", "'kafka'")])
def test_create_bus_names_an_unknown_scheme(url: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        create_bus(url)


# --------------------------------------------------------------------------- subjects


@pytest.mark.parametrize("subject", ["", "a..b", ".a", "a.", "a.*", "a.>", "a b"])
async def test_invalid_publish_subjects_are_refused(bus: MemoryBus, subject: str) -> None:
    with pytest.raises(ValueError, match="subject"):
        await bus.publish(subject, b"")


@pytest.mark.parametrize("pattern", ["", "a..b", "a.>.b", ">.a"])
async def test_invalid_patterns_are_refused(bus: MemoryBus, pattern: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        await bus.subscribe(pattern)


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        ("a.b", "a.b", True),
        ("a.b", "a.c", False),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("*.b", "a.*", True),
        ("*.b", "a.c", False),
        (">", "x", True),
        ("a.b", "a.b.c", False),
    ],
)
def test_patterns_overlap(a: str, b: str, overlap: bool) -> None:
    assert patterns_overlap(a.split("."), b.split(".")) is overlap
    assert patterns_overlap(b.split("."), a.split(".")) is overlap


def test_trie_prunes_what_it_no_longer_needs() -> None:
    trie: SubjectTrie[str] = SubjectTrie()
    trie.insert(["a", "b", "c"], "abc")
    trie.insert(["a", "*"], "a*")
    trie.insert(["a", "*"], "a*")  # inserting twice files it once
    assert len(trie) == 2
    assert sorted(trie.match(["a", "b"])) == ["a*"]
    trie.remove(["a", "b", "c"], "abc")
    trie.remove(["a", "*"], "a*")
    trie.remove(["a", "*"], "a*")
    trie.remove(["nowhere"], "x")
    assert len(trie) == 0
    assert list(trie.values()) == []
    assert trie.match(["a", "b", "c"]) == []


async def test_publishing_among_many_distinct_subscriptions_stays_fast(bus: MemoryBus) -> None:
    subs = [await bus.subscribe(subjects.run_events("ws1", f"run_{i}")) for i in range(10_000)]
    started = time.perf_counter()
    for i in range(2_000):
        await bus.publish(subjects.run_events("ws1", f"run_{i}"), b"e")
    # A scan of every subscription per publish would take seconds here.
    assert time.perf_counter() - started < 1.0
    assert (await subs[1999].next(timeout=1)).data == b"e"
    with pytest.raises(TimeoutError):
        await subs[2000].next(timeout=0)


async def test_headers_are_copied_at_publish(bus: MemoryBus) -> None:
    sub = await bus.subscribe("a.b")
    headers = {"k": "v"}
    await bus.publish("a.b", b"", headers=headers)
    headers["k"] = "changed"
    assert (await sub.next(timeout=1)).headers == {"k": "v"}


async def test_unsubscribe_discards_the_backlog(bus: MemoryBus) -> None:
    sub = await bus.subscribe("a.b")
    await bus.publish("a.b", b"1")
    await sub.unsubscribe()
    await sub.unsubscribe()  # twice is harmless
    with pytest.raises(BusClosed):
        await sub.next(timeout=1)
    assert len(bus._router) == 0


# --------------------------------------------------------------------------- request/reply


async def test_inboxes_do_not_pile_up(bus: MemoryBus) -> None:
    async def echo(message: BusMessage) -> bytes:
        return message.data

    await bus.serve("svc.echo", echo)
    for i in range(200):
        assert (await bus.request("svc.echo", bytes([i]), timeout=1)).data == bytes([i])
    assert len(bus._router) == 1  # the server's queue group, no leftover inbox


async def test_a_failing_handler_logs_and_keeps_serving(
    bus: MemoryBus, caplog: pytest.LogCaptureFixture
) -> None:
    async def fragile(message: BusMessage) -> bytes:
        if message.data == b"bad":
            raise RuntimeError("boom")
        return b"ok"

    await bus.serve("svc.fragile", fragile)
    with caplog.at_level(logging.ERROR), pytest.raises(TimeoutError):
        await bus.request("svc.fragile", b"bad", timeout=0.05)
    assert "svc.fragile" in caplog.text
    assert (await bus.request("svc.fragile", b"good", timeout=1)).data == b"ok"


async def test_a_serving_subscription_cannot_be_read(bus: MemoryBus) -> None:
    async def echo(message: BusMessage) -> bytes:
        return message.data

    service = await bus.serve("svc.echo", echo)
    with pytest.raises(TypeError):
        await service.next(timeout=0)
    with pytest.raises(TypeError):
        service.__aiter__()


async def test_a_handler_may_stop_its_own_server(bus: MemoryBus) -> None:
    stopped = asyncio.Event()

    async def once(message: BusMessage) -> bytes:
        await service.unsubscribe()
        stopped.set()
        return b"last"

    service = await bus.serve("svc.once", once)
    assert (await bus.request("svc.once", b"", timeout=1)).data == b"last"
    await stopped.wait()
    with pytest.raises(TimeoutError, match="no responders"):
        await bus.request("svc.once", b"", timeout=1)


# --------------------------------------------------------------------------- work queue


async def test_dedup_window_follows_the_clock(bus: MemoryBus, clock: Ticker) -> None:
    assert await bus.enqueue(SUBJECT, b"", msg_id="m1")
    clock.advance(9.9)
    assert not await bus.enqueue(SUBJECT, b"", msg_id="m1")
    clock.advance(0.2)
    assert await bus.enqueue(SUBJECT, b"", msg_id="m1")  # window over: a new message
    clock.advance(5)
    # The first window's expiry must not end the second one.
    assert not await bus.enqueue(SUBJECT, b"", msg_id="m1")


async def test_ack_wait_expiry_on_the_clock(bus: MemoryBus, clock: Ticker) -> None:
    await bus.enqueue(SUBJECT, b"x", msg_id="m1")
    consumer = await bus.consumer("dev", [SUBJECT], ack_wait=30)
    assert (await _one(await consumer.fetch(timeout=0))).delivery == 1
    clock.advance(29.9)
    bus._reap()
    assert await consumer.fetch(timeout=0) == []
    clock.advance(0.2)
    bus._reap()
    assert (await _one(await consumer.fetch(timeout=0))).delivery == 2


async def test_in_progress_and_nak_delay_on_the_clock(bus: MemoryBus, clock: Ticker) -> None:
    await bus.enqueue(SUBJECT, b"x", msg_id="m1")
    consumer = await bus.consumer("dev", [SUBJECT], ack_wait=30)
    item = await _one(await consumer.fetch(timeout=0))
    clock.advance(20)
    await item.in_progress()
    clock.advance(20)
    bus._reap()
    assert await consumer.fetch(timeout=0) == []  # 40 s in, but the deadline moved to 50
    await item.nak(delay=5)
    clock.advance(4.9)
    bus._reap()
    assert await consumer.fetch(timeout=0) == []
    clock.advance(0.2)
    bus._reap()
    assert (await _one(await consumer.fetch(timeout=0))).delivery == 2


async def test_expiry_past_max_deliver_dead_letters(bus: MemoryBus, clock: Ticker) -> None:
    dead = await bus.subscribe(f"{subjects.DEAD_LETTER_PREFIX}.>")
    await bus.enqueue(SUBJECT, b"poison", msg_id="m1")
    consumer = await bus.consumer("dev", [SUBJECT], ack_wait=1, max_deliver=2)
    for _ in range(2):
        await _one(await consumer.fetch(timeout=0))
        clock.advance(1.5)
        bus._reap()
    letter = await dead.next(timeout=1)
    assert (letter.subject, letter.data) == (DEAD, b"poison")
    assert letter.headers == {
        "Swarmyard-Msg-Id": "m1",
        "Swarmyard-Deliveries": "2",
        "Swarmyard-Durable": "dev",
    }
    assert await consumer.fetch(timeout=0) == []


async def test_an_old_delivery_cannot_disturb_the_current_one(
    bus: MemoryBus, clock: Ticker
) -> None:
    await bus.enqueue(SUBJECT, b"x", msg_id="m1")
    consumer = await bus.consumer("dev", [SUBJECT], ack_wait=10)
    old = await _one(await consumer.fetch(timeout=0))
    clock.advance(11)
    bus._reap()
    current = await _one(await consumer.fetch(timeout=0))
    await old.nak()
    await old.in_progress()
    assert await consumer.fetch(timeout=0) == []  # the nak was ignored
    clock.advance(10.5)
    bus._reap()  # and in_progress did not extend the current deadline
    assert (await _one(await consumer.fetch(timeout=0))).delivery == 3
    await old.ack()  # an ack settles the message whichever delivery it came from
    await current.ack()
    clock.advance(100)
    bus._reap()
    assert await consumer.fetch(timeout=0) == []


async def test_messages_wait_for_the_durable_that_matches_them(bus: MemoryBus) -> None:
    tester = subjects.tasks_ready("ws1", "tester")
    await bus.enqueue(SUBJECT, b"dev", msg_id="m1")
    await bus.enqueue(tester, b"test", msg_id="m2")
    dev = await bus.consumer("dev", [SUBJECT])
    assert [i.data for i in await dev.fetch(batch=5, timeout=0)] == [b"dev"]
    qa = await bus.consumer("qa", [tester])
    assert [i.data for i in await qa.fetch(batch=5, timeout=0)] == [b"test"]


async def test_a_durable_is_reopened_only_with_the_same_configuration(bus: MemoryBus) -> None:
    await bus.consumer("dev", [SUBJECT], ack_wait=5, max_deliver=3)
    await bus.consumer("dev", [SUBJECT], ack_wait=5, max_deliver=3)
    with pytest.raises(ValueError, match="already exists"):
        await bus.consumer("dev", [SUBJECT], ack_wait=6, max_deliver=3)
    with pytest.raises(ValueError, match="already exists"):
        await bus.consumer("dev", ["other.subject"], ack_wait=5, max_deliver=3)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"durable": "", "subjects": [SUBJECT]}, ValueError),
        ({"durable": "d", "subjects": []}, ValueError),
        ({"durable": "d", "subjects": SUBJECT}, TypeError),
        ({"durable": "d", "subjects": [SUBJECT], "ack_wait": 0}, ValueError),
        ({"durable": "d", "subjects": [SUBJECT], "max_deliver": 0}, ValueError),
    ],
)
async def test_bad_consumer_arguments_are_refused(
    bus: MemoryBus, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await bus.consumer(**kwargs)  # type: ignore[arg-type]


async def test_bad_enqueue_and_fetch_arguments_are_refused(bus: MemoryBus) -> None:
    with pytest.raises(ValueError, match="msg_id"):
        await bus.enqueue(SUBJECT, b"", msg_id="")
    consumer = await bus.consumer("dev", [SUBJECT])
    with pytest.raises(ValueError, match="batch"):
        await consumer.fetch(batch=0)


async def test_a_closed_consumers_messages_return_to_the_durable(
    bus: MemoryBus, clock: Ticker
) -> None:
    await bus.enqueue(SUBJECT, b"x", msg_id="m1")
    gone = await bus.consumer("dev", [SUBJECT], ack_wait=5)
    await _one(await gone.fetch(timeout=0))
    await gone.close()
    with pytest.raises(BusClosed):
        await gone.fetch(timeout=0)
    successor = await bus.consumer("dev", [SUBJECT], ack_wait=5)
    clock.advance(6)
    bus._reap()
    assert (await _one(await successor.fetch(timeout=0))).delivery == 2


# --------------------------------------------------------------------------- close


async def test_close_ends_everything_cleanly() -> None:
    bus = MemoryBus()
    sub = await bus.subscribe("a.>")
    iterated = await bus.subscribe("b.>")
    consumer = await bus.consumer("dev", [SUBJECT], ack_wait=30)
    await bus.enqueue(SUBJECT, b"x", msg_id="m1")
    await _one(await consumer.fetch(timeout=0))  # leaves an ack timer armed
    entered = asyncio.Event()

    async def stuck(message: BusMessage) -> bytes:
        entered.set()
        await asyncio.Event().wait()
        return b""

    await bus.serve("svc.stuck", stuck)

    async def drain() -> list[BusMessage]:
        return [m async for m in iterated]

    async def close_once_the_server_is_busy() -> None:
        # The waiters below were scheduled first, so by the time the handler
        # has the request every one of them is waiting.
        await entered.wait()
        await bus.close()
        await bus.close()  # idempotent

    next_result, fetched, drained, replied, _ = await asyncio.gather(
        sub.next(timeout=30),
        consumer.fetch(timeout=30),
        drain(),
        bus.request("svc.stuck", b"", timeout=30),
        close_once_the_server_is_busy(),
        return_exceptions=True,
    )
    assert isinstance(next_result, BusClosed)
    assert isinstance(replied, BusClosed)
    assert fetched == []
    assert drained == []
    assert asyncio.all_tasks() == {asyncio.current_task()}
    for call in (
        bus.publish("a.b", b""),
        bus.subscribe("a.b"),
        bus.enqueue(SUBJECT, b"", msg_id="m2"),
        bus.consumer("dev", [SUBJECT]),
        consumer.fetch(timeout=0),
    ):
        with pytest.raises(BusClosed):
            await call

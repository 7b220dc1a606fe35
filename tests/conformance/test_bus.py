"""Conformance suite of the Bus port: every bus adapter passes it unchanged.

The tests speak to `swarmyard.ports.Bus` only. An adapter joins by adding
one factory to `swarmyard.testing.buses.BUS_ADAPTERS`. Every test works under a workspace id of its
own, so adapters backed by a shared server see nothing of other tests; the
NATS bus also gets a work stream of its own per test, deleted afterwards.

Where the behaviour under test is about time (ack_wait, nak delays, empty
fetches), the tests use short real durations and wait on the bus's own
results; nothing waits on a sleep to let the bus catch up.

The NATS adapter runs against the test machine's server
(SWARMYARD_TEST_NATS_URL, by default nats://127.0.0.1:4222); without one its
tests skip, or fail when SWARMYARD_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from swarmyard.domain import subjects
from swarmyard.ports import Bus, BusMessage, Consumer, WorkItem
from swarmyard.testing.buses import BUS_ADAPTERS


@pytest.fixture(params=sorted(BUS_ADAPTERS))
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    async with BUS_ADAPTERS[request.param](request) as instance:
        yield instance


@pytest.fixture
def ws() -> str:
    """A workspace id no other test uses."""
    return f"w{uuid.uuid4().hex[:12]}"


def _materialise(pattern: str) -> str:
    """A concrete subject the pattern matches."""
    return ".".join("x" if token in ("*", ">") else token for token in pattern.split("."))


async def _fetch_one(consumer: Consumer) -> WorkItem:
    items = await consumer.fetch(batch=1, timeout=2.0)
    assert len(items) == 1, "expected one work item in time"
    return items[0]


# --------------------------------------------------------------------------- pub/sub

MATCHING = [
    ("a.b", "a.b", True),
    ("a.b", "a.c", False),
    ("a.b", "a.b.c", False),
    ("a.b.c", "a.b", False),
    ("a.*", "a.b", True),
    ("a.*", "a.b.c", False),
    ("a.*", "a", False),
    ("*.b", "a.b", True),
    ("*.b", "a.c", False),
    ("a.*.c", "a.x.c", True),
    ("a.*.c", "a.x.d", False),
    ("*.*", "a.b", True),
    ("a.>", "a.b", True),
    ("a.>", "a.b.c.d", True),
    ("a.>", "a", False),
    ("a.>", "b.c", False),
    ("a.*.>", "a.b.c", True),
    ("a.*.>", "a.b", False),
    (">", "a.b.c", True),
]


@pytest.mark.parametrize(("pattern", "subject", "matches"), MATCHING)
async def test_wildcard_matching(
    bus: Bus, ws: str, pattern: str, subject: str, matches: bool
) -> None:
    sub = await bus.subscribe(f"{ws}.{pattern}")
    await bus.publish(f"{ws}.{subject}", b"probe")
    # The fence matches the pattern by construction; delivery is in publish
    # order, so the probe shows up before it or not at all.
    await bus.publish(f"{ws}.{_materialise(pattern)}", b"fence")
    first = await sub.next(timeout=2)
    assert (first.data == b"probe") is matches
    if matches:
        assert first.subject == f"{ws}.{subject}"
        assert (await sub.next(timeout=2)).data == b"fence"


async def test_messages_arrive_in_publish_order_with_headers(bus: Bus, ws: str) -> None:
    sub = await bus.subscribe(subjects.board(ws))
    for i in range(300):
        await bus.publish(subjects.board(ws), str(i).encode(), headers={"n": str(i)})
    got = [await sub.next(timeout=2) for _ in range(300)]
    assert [m.data for m in got] == [str(i).encode() for i in range(300)]
    assert [m.headers["n"] for m in got] == [str(i) for i in range(300)]
    assert {m.subject for m in got} == {subjects.board(ws)}


async def test_fan_out_to_a_thousand_subscribers_loses_nothing(bus: Bus, ws: str) -> None:
    subject = subjects.run_events(ws, "run_1")
    patterns = [subject, f"swarmyard.{ws}.runs.events.*", f"swarmyard.{ws}.>"]
    subs = [await bus.subscribe(patterns[i % 3]) for i in range(1000)]
    for i in range(5):
        await bus.publish(subject, bytes([i]))
    for sub in subs:
        assert [(await sub.next(timeout=2)).data for _ in range(5)] == [
            bytes([i]) for i in range(5)
        ]


async def test_async_iteration_yields_messages(bus: Bus, ws: str) -> None:
    sub = await bus.subscribe(subjects.heartbeat(f"{ws}-agent"))
    for i in range(3):
        await bus.publish(subjects.heartbeat(f"{ws}-agent"), bytes([i]))
    got: list[bytes] = []
    async for message in sub:
        got.append(message.data)
        if len(got) == 3:
            break
    assert got == [b"\x00", b"\x01", b"\x02"]


async def test_next_times_out_when_nothing_comes(bus: Bus, ws: str) -> None:
    sub = await bus.subscribe(subjects.board(ws))
    with pytest.raises(TimeoutError):
        await sub.next(timeout=0.02)


async def test_unsubscribe_stops_delivery(bus: Bus, ws: str) -> None:
    gone = await bus.subscribe(subjects.board(ws))
    kept = await bus.subscribe(subjects.board(ws))
    await gone.unsubscribe()
    await bus.publish(subjects.board(ws), b"after")
    assert (await kept.next(timeout=2)).data == b"after"
    assert [m async for m in gone] == []


# --------------------------------------------------------------------------- request/reply


async def test_request_gets_the_servers_reply(bus: Bus, ws: str) -> None:
    async def upper(message: BusMessage) -> bytes:
        return message.data.upper()

    await bus.serve(subjects.agent_help(ws), upper)
    reply = await bus.request(subjects.agent_help(ws), b"help me", timeout=2)
    assert reply.data == b"HELP ME"


async def test_request_times_out_when_nobody_serves(bus: Bus, ws: str) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await bus.request(subjects.agent_decision(ws), b"?", timeout=0.2)
    assert time.monotonic() - started < 1.0


async def test_request_times_out_when_the_server_stays_silent(bus: Bus, ws: str) -> None:
    release = asyncio.Event()

    async def silent(message: BusMessage) -> bytes:
        await release.wait()
        return b"too late"

    await bus.serve(subjects.agent_decision(ws), silent)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await bus.request(subjects.agent_decision(ws), b"?", timeout=0.05)
    assert 0.04 <= time.monotonic() - started < 1.0
    release.set()


async def test_several_servers_answer_each_request_once(bus: Bus, ws: str) -> None:
    handled: Counter[str] = Counter()

    def server(name: str) -> Callable[[BusMessage], Awaitable[bytes]]:
        async def handle(message: BusMessage) -> bytes:
            handled[name] += 1
            return name.encode() + b":" + message.data

        return handle

    for name in ("s1", "s2", "s3"):
        await bus.serve(subjects.agent_help(ws), server(name))
    replies = await asyncio.gather(
        *(bus.request(subjects.agent_help(ws), str(i).encode(), timeout=2) for i in range(30))
    )
    assert [r.data.split(b":")[1] for r in replies] == [str(i).encode() for i in range(30)]
    assert sum(handled.values()) == 30
    assert len(handled) > 1


async def test_a_stopped_server_answers_no_more(bus: Bus, ws: str) -> None:
    async def echo(message: BusMessage) -> bytes:
        return message.data

    service = await bus.serve(subjects.agent_help(ws), echo)
    assert (await bus.request(subjects.agent_help(ws), b"1", timeout=2)).data == b"1"
    await service.unsubscribe()
    with pytest.raises(TimeoutError):
        await bus.request(subjects.agent_help(ws), b"2", timeout=0.1)


# --------------------------------------------------------------------------- work queue


async def test_enqueue_deduplicates_by_msg_id(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    assert await bus.enqueue(subject, b"first", msg_id=f"{ws}-m1") is True
    assert await bus.enqueue(subject, b"second", msg_id=f"{ws}-m1") is False
    consumer = await bus.consumer(f"{ws}-dev", [subject])
    item = await _fetch_one(consumer)
    assert (item.data, item.msg_id, item.delivery) == (b"first", f"{ws}-m1", 1)
    await item.ack()
    # Still within the window after the ack: the id stays taken.
    assert await bus.enqueue(subject, b"third", msg_id=f"{ws}-m1") is False
    assert await consumer.fetch(batch=5, timeout=0.05) == []


async def test_messages_enqueued_before_the_consumer_are_delivered_in_order(
    bus: Bus, ws: str
) -> None:
    subject = subjects.tasks_ready(ws, "tester")
    for i in range(5):
        await bus.enqueue(subject, bytes([i]), msg_id=f"{ws}-{i}")
    consumer = await bus.consumer(f"{ws}-tester", [f"swarmyard.{ws}.tasks.ready.*"])
    first = await consumer.fetch(batch=3, timeout=2)
    rest = await consumer.fetch(batch=10, timeout=2)
    assert [i.data for i in first + rest] == [bytes([i]) for i in range(5)]
    assert {i.subject for i in first + rest} == {subject}


async def test_consumers_of_one_durable_share_messages_exactly_once(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    total = 500
    workers = [await bus.consumer(f"{ws}-dev", [subject], ack_wait=30) for _ in range(2)]
    seen: list[str] = []
    per_worker: Counter[int] = Counter()

    async def work(consumer: Consumer) -> None:
        while len(seen) < total:
            for item in await consumer.fetch(batch=10, timeout=0.05):
                seen.append(item.msg_id)
                per_worker[id(consumer)] += 1
                await item.ack()
            await asyncio.sleep(0)  # a worker does other things between batches

    async def produce() -> None:
        for i in range(total):
            assert await bus.enqueue(subject, b"run", msg_id=f"{ws}-{i}")
            if i % 50 == 0:
                await asyncio.sleep(0)

    await asyncio.gather(produce(), *(work(c) for c in workers))
    assert sorted(seen) == sorted(f"{ws}-{i}" for i in range(total))
    assert len(per_worker) == 2, "both consumers of the durable should get work"
    assert await workers[0].fetch(batch=10, timeout=0.05) == []


async def test_overlapping_durable_filters_are_refused(bus: Bus, ws: str) -> None:
    await bus.consumer(f"{ws}-all", [f"swarmyard.{ws}.tasks.ready.*"])
    with pytest.raises(ValueError, match="overlap"):
        await bus.consumer(f"{ws}-dev", [subjects.tasks_ready(ws, "developer")])
    with pytest.raises(ValueError, match="overlap"):
        await bus.consumer(f"{ws}-rest", [f"swarmyard.{ws}.>"])
    # A disjoint filter is fine.
    await bus.consumer(f"{ws}-other", [f"swarmyard.{ws}.tasks.later.*"])


async def test_ack_removes_the_message(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    await bus.enqueue(subject, b"x", msg_id=f"{ws}-1")
    consumer = await bus.consumer(f"{ws}-dev", [subject], ack_wait=0.05)
    await (await _fetch_one(consumer)).ack()
    # Longer than ack_wait: an unacked message would have come back by now.
    assert await consumer.fetch(timeout=0.2) == []


async def test_nak_with_delay_redelivers_later(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    await bus.enqueue(subject, b"x", msg_id=f"{ws}-1")
    consumer = await bus.consumer(f"{ws}-dev", [subject])
    first = await _fetch_one(consumer)
    assert first.delivery == 1
    started = time.monotonic()
    await first.nak(delay=0.1)
    again = await _fetch_one(consumer)
    assert time.monotonic() - started >= 0.09
    assert (again.msg_id, again.data, again.delivery) == (f"{ws}-1", b"x", 2)
    await again.ack()


async def test_unacked_message_comes_back_after_ack_wait(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    await bus.enqueue(subject, b"x", msg_id=f"{ws}-1")
    consumer = await bus.consumer(f"{ws}-dev", [subject], ack_wait=0.05)
    assert (await _fetch_one(consumer)).delivery == 1
    again = await _fetch_one(consumer)
    assert (again.msg_id, again.delivery) == (f"{ws}-1", 2)
    await again.ack()


async def test_in_progress_restarts_the_ack_deadline(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    await bus.enqueue(subject, b"x", msg_id=f"{ws}-1")
    consumer = await bus.consumer(f"{ws}-dev", [subject], ack_wait=0.15)
    item = await _fetch_one(consumer)
    started = time.monotonic()
    while time.monotonic() - started < 0.3:  # twice ack_wait
        assert await consumer.fetch(timeout=0.04) == []
        await item.in_progress()
    await item.ack()
    assert await consumer.fetch(timeout=0.2) == []


async def test_max_deliver_moves_the_message_to_the_dead_letter_subject(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    dead = await bus.subscribe(f"{subjects.DEAD_LETTER_PREFIX}.{subject}")
    await bus.enqueue(subject, b"poison", msg_id=f"{ws}-1")
    consumer = await bus.consumer(f"{ws}-dev", [subject], ack_wait=0.05, max_deliver=3)
    await (await _fetch_one(consumer)).nak()
    assert (await _fetch_one(consumer)).delivery == 2  # left to expire
    third = await _fetch_one(consumer)
    assert third.delivery == 3
    await third.nak()
    letter = await dead.next(timeout=2)
    assert letter.subject == f"{subjects.DEAD_LETTER_PREFIX}.{subject}"
    assert letter.data == b"poison"
    assert letter.headers["Swarmyard-Msg-Id"] == f"{ws}-1"
    assert letter.headers["Swarmyard-Deliveries"] == "3"
    assert letter.headers["Swarmyard-Durable"] == f"{ws}-dev"
    assert await consumer.fetch(timeout=0.15) == []


async def test_term_drops_the_message(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    dead = await bus.subscribe(f"{subjects.DEAD_LETTER_PREFIX}.{subject}")
    await bus.enqueue(subject, b"x", msg_id=f"{ws}-1")
    consumer = await bus.consumer(f"{ws}-dev", [subject], ack_wait=0.05, max_deliver=1)
    await (await _fetch_one(consumer)).term()
    assert await consumer.fetch(timeout=0.15) == []
    with pytest.raises(TimeoutError):
        await dead.next(timeout=0.02)


async def test_fetch_on_an_empty_queue_returns_nothing_within_its_timeout(
    bus: Bus, ws: str
) -> None:
    consumer = await bus.consumer(f"{ws}-dev", [subjects.tasks_ready(ws, "developer")])
    started = time.monotonic()
    assert await consumer.fetch(batch=10, timeout=0.1) == []
    assert 0.09 <= time.monotonic() - started < 1.0


async def test_a_waiting_fetch_wakes_for_a_new_message(bus: Bus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    consumer = await bus.consumer(f"{ws}-dev", [subject])
    waiting = asyncio.create_task(consumer.fetch(batch=5, timeout=2))
    await bus.enqueue(subject, b"x", msg_id=f"{ws}-1")
    items = await waiting
    assert [i.msg_id for i in items] == [f"{ws}-1"]

"""What the NATS bus promises beyond the port's conformance suite: processes
(here: connections) sharing one work queue, the queue's layout on JetStream,
durables of several patterns, dead letters of expired deliveries, connection
errors, and a server restart.

Each test has a work stream of its own on the test machine's server
(SWARMYARD_TEST_NATS_URL, by default nats://127.0.0.1:4222); without one
the tests skip, or fail when SWARMYARD_REQUIRE_SERVICES=1 (CI). The restart
test runs a NATS server of its own on a free port, so the shared one is
never disturbed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from swarmyard.adapters.bus import create_bus
from swarmyard.adapters.bus.nats import NatsBus
from swarmyard.adapters.bus.testing import (
    delete_stream,
    scratch_bus,
    scratch_name,
)
from swarmyard.domain import subjects
from swarmyard.ports import BusClosed, Consumer, WorkItem
from swarmyard.testing.skips import unavailable

REQUIRED = os.environ.get("SWARMYARD_REQUIRE_SERVICES") == "1"


@pytest.fixture
def ws() -> str:
    return f"w{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def stream(nats_server: str) -> AsyncIterator[str]:
    """A work stream shared by the buses of one test, removed afterwards."""
    name = scratch_name("WORK")
    yield name
    await delete_stream(nats_server, name)


@pytest.fixture
async def bus(nats_server: str, stream: str) -> AsyncIterator[NatsBus]:
    async with scratch_bus(nats_server, work_stream=stream) as instance:
        yield instance


@pytest.fixture
async def elsewhere(nats_server: str, stream: str) -> AsyncIterator[NatsBus]:
    """A second connection to the same queue: another process's view."""
    async with scratch_bus(nats_server, work_stream=stream) as instance:
        yield instance


async def _one(consumer: Consumer, timeout: float = 2.0) -> WorkItem:
    items = await consumer.fetch(timeout=timeout)
    assert len(items) == 1, "expected one work item in time"
    return items[0]


# --------------------------------------------------------------------------- connecting


async def test_create_bus_gives_a_nats_bus_that_connects_on_first_use() -> None:
    bus = create_bus("nats://127.0.0.1:4222")
    assert isinstance(bus, NatsBus)
    await bus.close()  # never connected: nothing to do
    with pytest.raises(BusClosed):
        await bus.publish("swarmyard.x.board", b"late")


async def test_the_url_names_the_installations_stream_and_lease_bucket() -> None:
    from swarmyard.adapters.coordination import create_leader_lease
    from swarmyard.adapters.coordination.nats_kv import NatsLeaderLease

    default = create_bus("nats://127.0.0.1:4222")
    acme = create_bus("nats://a:4222,nats://b:4222?namespace=ACME")
    assert isinstance(default, NatsBus)
    assert isinstance(acme, NatsBus)
    assert (default.work_stream, acme.work_stream) == ("SWARMYARD_WORK", "ACME_WORK")
    lease = create_leader_lease(acme)
    assert isinstance(lease, NatsLeaderLease)
    assert lease.bucket == "ACME_LEADERS"
    await default.close()
    await acme.close()


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("nats://h:4222?stream=X", "unknown option"),
        ("nats://h:4222?namespace=a.b", "namespace 'a.b'"),
        ("nats://h:4222?namespace=", "namespace ''"),
    ],
)
def test_bad_url_options_are_refused(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        create_bus(url)


async def test_installations_in_other_namespaces_share_no_work(nats_server: str, ws: str) -> None:
    namespaces = [scratch_name("NS"), scratch_name("NS")]
    buses = [NatsBus(f"{nats_server}?namespace={ns}") for ns in namespaces]
    subject = subjects.tasks_ready(ws, "developer")
    try:
        assert await buses[0].enqueue(subject, b"ours", msg_id=f"{ws}-1")
        assert await buses[1].enqueue(subject, b"theirs", msg_id=f"{ws}-1"), "no shared dedup"
        theirs = await buses[1].consumer(f"{ws}-dev", [subject])
        [item] = await theirs.fetch(batch=5, timeout=2)
        assert item.data == b"theirs"
        await item.ack()
        ours = await buses[0].consumer(f"{ws}-dev", [subject])
        assert [i.data for i in await ours.fetch(batch=5, timeout=2)] == [b"ours"]
    finally:
        for bus, ns in zip(buses, namespaces, strict=True):
            await bus.close()
            await delete_stream(nats_server, f"{ns}_WORK")


async def test_an_unreachable_server_is_an_error_naming_the_url(closed_port: int) -> None:
    bus = NatsBus(f"nats://user:s3cret@127.0.0.1:{closed_port}", connect_timeout=0.5)
    with pytest.raises(ConnectionError, match=rf"user:\*\*\*@127\.0\.0\.1:{closed_port}") as err:
        await bus.publish("swarmyard.x.board", b"hello")
    assert "s3cret" not in str(err.value)
    await bus.close()


# --------------------------------------------------------------------------- several processes


async def test_a_msg_id_is_deduplicated_across_connections(
    bus: NatsBus, elsewhere: NatsBus, ws: str
) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    assert await bus.enqueue(subject, b"first", msg_id=f"{ws}-1") is True
    assert await elsewhere.enqueue(subject, b"again", msg_id=f"{ws}-1") is False
    consumer = await elsewhere.consumer(f"{ws}-dev", [subject])
    item = await _one(consumer)
    assert (item.data, item.delivery) == (b"first", 1)
    await item.ack()
    assert await consumer.fetch(batch=5, timeout=0.05) == []


async def test_consumers_on_two_connections_share_a_durable(
    bus: NatsBus, elsewhere: NatsBus, ws: str
) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    total = 200
    for i in range(total):
        assert await bus.enqueue(subject, b"run", msg_id=f"{ws}-{i}")
    consumers = [
        await bus.consumer(f"{ws}-dev", [subject]),
        await elsewhere.consumer(f"{ws}-dev", [subject]),
    ]
    seen: list[str] = []
    per_connection: Counter[int] = Counter()

    async def work(index: int) -> None:
        while len(seen) < total:
            for item in await consumers[index].fetch(batch=7, timeout=0.05):
                seen.append(item.msg_id)
                per_connection[index] += 1
                await item.ack()

    await asyncio.gather(work(0), work(1))
    assert sorted(seen) == sorted(f"{ws}-{i}" for i in range(total))
    assert set(per_connection) == {0, 1}, "both connections should get work"


async def test_an_unacked_item_comes_back_to_another_process(
    bus: NatsBus, elsewhere: NatsBus, ws: str
) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    await bus.enqueue(subject, b"x", msg_id=f"{ws}-1")
    crashed = await bus.consumer(f"{ws}-dev", [subject], ack_wait=0.2)
    assert (await _one(crashed)).delivery == 1
    await bus.close()  # the worker dies holding it
    survivor = await elsewhere.consumer(f"{ws}-dev", [subject], ack_wait=0.2)
    again = await _one(survivor)
    assert (again.msg_id, again.delivery) == (f"{ws}-1", 2)
    await again.ack()


async def test_a_durable_opened_elsewhere_with_other_settings_is_refused(
    bus: NatsBus, elsewhere: NatsBus, ws: str
) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    await bus.consumer(f"{ws}-dev", [subject], ack_wait=30, max_deliver=5)
    with pytest.raises(ValueError, match="already exists with"):
        await elsewhere.consumer(f"{ws}-dev", [subject], ack_wait=10, max_deliver=5)
    with pytest.raises(ValueError, match="already exists with"):
        await elsewhere.consumer(f"{ws}-dev", [subject], ack_wait=30, max_deliver=3)
    with pytest.raises(ValueError, match="already exists with"):
        await elsewhere.consumer(f"{ws}-dev", [subjects.tasks_ready(ws, "tester")])
    await elsewhere.consumer(f"{ws}-dev", [subject], ack_wait=30, max_deliver=5)


async def test_an_overlap_with_another_processs_durable_names_it(
    bus: NatsBus, elsewhere: NatsBus, ws: str
) -> None:
    await bus.consumer(f"{ws}-all", [subjects.tasks_ready(ws, "*")])
    with pytest.raises(ValueError, match=rf"overlaps .* of durable '{ws}-all'"):
        await elsewhere.consumer(f"{ws}-dev", [subjects.tasks_ready(ws, "developer")])


# --------------------------------------------------------------------------- layout


async def test_work_items_live_in_the_streams_own_subject_space(
    bus: NatsBus, stream: str, ws: str
) -> None:
    watcher = await bus.subscribe(subjects.workspace_all(ws))
    subject = subjects.tasks_ready(ws, "developer")
    await bus.enqueue(subject, b"work", msg_id=f"{ws}-1")
    await bus.publish(subjects.board(ws), b"fence")
    # In publish order: a work item seen by core subscribers would come first.
    assert (await watcher.next(timeout=2)).data == b"fence"
    js = await bus.jetstream()
    info = await js.stream_info(stream, subjects_filter=">")
    assert info.config.retention == "workqueue"
    assert info.config.duplicate_window == 120
    assert info.state.subjects == {f"{stream}.{subject}": 1}


async def test_a_durable_of_several_patterns_gets_the_messages_of_each(
    bus: NatsBus, ws: str
) -> None:
    dev, tester = subjects.tasks_ready(ws, "developer"), subjects.tasks_ready(ws, "tester")
    consumer = await bus.consumer(f"{ws}-two", [dev, tester])
    await bus.enqueue(dev, b"d", msg_id=f"{ws}-d")
    await bus.enqueue(tester, b"t", msg_id=f"{ws}-t")
    items = await consumer.fetch(batch=10, timeout=2)
    assert sorted(i.subject for i in items) == [dev, tester]
    for item in items:
        await item.ack()
    # An idle fetch notices a message on either pattern.
    for subject in (tester, dev):
        waiting = asyncio.create_task(consumer.fetch(batch=10, timeout=5))
        await bus.enqueue(subject, b"late", msg_id=f"{ws}-late-{subject}")
        [item] = await waiting
        assert item.subject == subject
        await item.ack()
    with pytest.raises(ValueError, match="overlap"):
        await bus.consumer(f"{ws}-third", [tester])


async def test_patterns_of_one_durable_that_contain_another_are_merged(
    bus: NatsBus, stream: str, ws: str
) -> None:
    consumer = await bus.consumer(
        f"{ws}-dev", [subjects.tasks_ready(ws, "*"), subjects.tasks_ready(ws, "developer")]
    )
    js = await bus.jetstream()
    assert [c.name for c in await js.consumers_info(stream)] == [f"{ws}-dev"]
    await bus.enqueue(subjects.tasks_ready(ws, "developer"), b"x", msg_id=f"{ws}-1")
    await (await _one(consumer)).ack()


async def test_patterns_of_one_durable_that_only_partly_overlap_are_refused(
    bus: NatsBus, ws: str
) -> None:
    with pytest.raises(ValueError, match="overlap without one containing the other"):
        await bus.consumer(
            f"{ws}-odd", [f"swarmyard.{ws}.tasks.*.developer", f"swarmyard.{ws}.*.ready.developer"]
        )


@pytest.mark.parametrize("name", ["a.b", "a b", "dev~1", "*", ""])
async def test_durable_names_that_cannot_name_a_consumer_are_refused(
    bus: NatsBus, ws: str, name: str
) -> None:
    with pytest.raises(ValueError, match="durable"):
        await bus.consumer(name, [subjects.tasks_ready(ws, "developer")])


# --------------------------------------------------------------------------- dead letters


async def test_a_last_delivery_left_to_expire_is_dead_lettered_by_the_next_fetch(
    bus: NatsBus, ws: str
) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    dead = await bus.subscribe(f"{subjects.DEAD_LETTER_PREFIX}.{subject}")
    await bus.enqueue(subject, b"poison", msg_id=f"{ws}-1")
    consumer = await bus.consumer(f"{ws}-dev", [subject], ack_wait=0.05, max_deliver=2)
    assert (await _one(consumer)).delivery == 1  # both left to expire
    assert (await _one(consumer)).delivery == 2
    # The server hands it out once more; the fetch dead-letters it instead.
    assert await consumer.fetch(timeout=0.3) == []
    letter = await dead.next(timeout=2)
    assert (letter.data, letter.headers["Swarmyard-Deliveries"]) == (b"poison", "2")
    assert letter.headers["Swarmyard-Durable"] == f"{ws}-dev"
    assert await consumer.fetch(timeout=0.2) == []


async def test_a_nak_after_an_ack_dead_letters_nothing(bus: NatsBus, ws: str) -> None:
    subject = subjects.tasks_ready(ws, "developer")
    dead = await bus.subscribe(f"{subjects.DEAD_LETTER_PREFIX}.{subject}")
    await bus.enqueue(subject, b"x", msg_id=f"{ws}-1")
    consumer = await bus.consumer(f"{ws}-dev", [subject], max_deliver=1)
    item = await _one(consumer)
    await item.ack()
    await item.nak()
    with pytest.raises(TimeoutError):
        await dead.next(timeout=0.1)


# --------------------------------------------------------------------------- closing


async def test_closing_a_consumer_wakes_its_waiting_fetch(bus: NatsBus, ws: str) -> None:
    consumer = await bus.consumer(f"{ws}-dev", [subjects.tasks_ready(ws, "developer")])
    waiting = asyncio.create_task(consumer.fetch(timeout=30))
    await asyncio.sleep(0)  # the fetch task runs past its closed check, to its first wait
    await consumer.close()
    assert await asyncio.wait_for(waiting, 5) == []
    with pytest.raises(BusClosed):
        await consumer.fetch()


async def test_closing_the_bus_ends_everything(bus: NatsBus, ws: str) -> None:
    sub = await bus.subscribe(subjects.board(ws))
    consumer = await bus.consumer(f"{ws}-dev", [subjects.tasks_ready(ws, "developer")])
    await bus.close()
    assert [m async for m in sub] == []
    with pytest.raises(BusClosed):
        await consumer.fetch()
    with pytest.raises(BusClosed):
        await bus.publish(subjects.board(ws), b"late")
    with pytest.raises(BusClosed):
        await bus.enqueue(subjects.tasks_ready(ws, "developer"), b"late", msg_id=f"{ws}-9")


# --------------------------------------------------------------------------- server restart


class PrivateServer:
    """A nats-server of this test's own, on a port and store directory nobody else uses."""

    def __init__(self, binary: str, port: int, store: Path, *, jetstream: bool = True) -> None:
        self._argv = [binary, "-a", "127.0.0.1", "-p", str(port)]
        if jetstream:
            self._argv += ["-js", "-sd", str(store)]
        self.url = f"nats://127.0.0.1:{port}"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self._argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._process.stderr is not None
        async with asyncio.timeout(20):
            async for line in self._process.stderr:  # its log goes to stderr
                if b"Server is ready" in line:
                    return
        raise AssertionError("the private nats-server exited before it was ready")

    async def kill(self) -> None:
        """A crash, not a shutdown: SIGKILL, and the process reaped."""
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.communicate()


@pytest.fixture
def nats_binary() -> str:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(binary).is_file():
        unavailable("no nats-server binary to start a private server with")
    return binary


@pytest.fixture
async def private_server(
    nats_binary: str, tmp_path: Path, closed_port: int
) -> AsyncIterator[PrivateServer]:
    server = PrivateServer(nats_binary, closed_port, tmp_path / "jetstream")
    await server.start()
    try:
        yield server
    finally:
        await server.kill()


@pytest.mark.slow
async def test_the_bus_carries_on_after_the_server_restarts(
    private_server: PrivateServer, ws: str
) -> None:
    bus = NatsBus(private_server.url, reconnect_wait=0.1)
    try:
        board = await bus.subscribe(subjects.board(ws))
        subject = subjects.tasks_ready(ws, "developer")
        consumer = await bus.consumer(f"{ws}-dev", [subject])
        assert await bus.enqueue(subject, b"before", msg_id=f"{ws}-1")

        await private_server.kill()
        await private_server.start()  # same store: the stream and the durable survive

        # Waits for the reconnection: the request is sent once the bus is back.
        assert await bus.enqueue(subject, b"after", msg_id=f"{ws}-2")
        items = await consumer.fetch(batch=5, timeout=5)
        assert [i.data for i in items] == [b"before", b"after"]
        for item in items:
            await item.ack()
        await bus.publish(subjects.board(ws), b"still here")
        assert (await board.next(timeout=5)).data == b"still here"
    finally:
        await bus.close()
    check = Client()
    await check.connect(private_server.url)
    assert (await check.jetstream().stream_info(bus.work_stream)).state.messages == 0
    await check.close()


async def test_a_server_without_jetstream_is_refused_in_words(
    nats_binary: str, tmp_path: Path, closed_port: int
) -> None:
    server = PrivateServer(nats_binary, closed_port, tmp_path, jetstream=False)
    await server.start()
    bus = NatsBus(server.url, connect_timeout=2)
    try:
        with pytest.raises(ConnectionError, match=r"does not offer JetStream.*-js"):
            await bus.publish("swarmyard.x.board", b"hello")
    finally:
        await bus.close()
        await server.kill()

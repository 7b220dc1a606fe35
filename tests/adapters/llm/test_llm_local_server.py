"""The local model server's supervisor, with a fake child process: started
on demand, restarted after it dies (with a growing pause), stopped for good.
No llama.cpp needed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from swarmyard.adapters.llm.local.supervisor import LlamaServer
from swarmyard.ports import ModelUnavailable


class FakeChild:
    """A child process whose exit the test decides."""

    def __init__(self, pid: int, argv: list[str], *, ignores_terminate: bool = False) -> None:
        self.pid = pid
        self.argv = argv
        self.returncode: int | None = None
        self.signals: list[str] = []
        self.stdin_closed = False
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._exited = asyncio.Event()
        self._ignores_terminate = ignores_terminate

    def exit(self, code: int, *said: str) -> None:
        for line in said:
            self.lines.put_nowait(line)
        self.lines.put_nowait(None)
        self.returncode = code
        self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def terminate(self) -> None:
        self.signals.append("TERM")
        if not self._ignores_terminate:
            self.exit(-15)

    def kill(self) -> None:
        self.signals.append("KILL")
        self.exit(-9)

    def close_stdin(self) -> None:
        self.stdin_closed = True

    async def output(self) -> AsyncIterator[str]:
        while (line := await self.lines.get()) is not None:
            yield line


class Harness:
    """Launcher, probe, clock and sleep of one supervisor under test."""

    def __init__(self, **child_options: Any) -> None:
        self.children: list[FakeChild] = []
        self.launched: asyncio.Queue[FakeChild] = asyncio.Queue()
        self.ready_after = 1  # probes answered "not yet" before the first "ready"
        self.probes: list[str] = []
        self.sleeps: list[float] = []
        self.now = 1000.0
        self.next_port = 40000
        self.child_options = child_options

    async def launch(self, argv: list[str]) -> FakeChild:
        child = FakeChild(100 + len(self.children), argv, **self.child_options)
        self.children.append(child)
        self.launched.put_nowait(child)
        return child

    async def probe(self, base_url: str) -> bool:
        self.probes.append(base_url)
        if self.ready_after > 0:
            self.ready_after -= 1
            return False
        return True

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def port(self) -> int:
        self.next_port += 1
        return self.next_port

    def server(self, **options: Any) -> LlamaServer:
        return LlamaServer(
            Path("/models/tiny.gguf"),
            alias="tiny",
            launcher=self.launch,
            probe=self.probe,
            ports=self.port,
            monotonic=lambda: self.now,
            sleep=self.sleep,
            **options,
        )


@pytest.fixture
def harness() -> Harness:
    return Harness()


async def test_nothing_starts_until_a_call_needs_it(harness: Harness) -> None:
    server = harness.server(threads=3)
    assert harness.children == []
    assert server.base_url is None

    url = await server.ensure_running()

    assert url == "http://127.0.0.1:40001/v1"
    (child,) = harness.children
    argv = child.argv
    assert argv[1:3] == ["-m", "swarmyard.adapters.llm.local.child"]
    assert argv[argv.index("--model") + 1] == "/models/tiny.gguf"
    assert argv[argv.index("--model_alias") + 1] == "tiny"
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "40001"
    assert argv[argv.index("--n_threads") + 1] == "3"
    # it polled /v1/models until the model was loaded
    assert harness.probes == [url, url]
    assert harness.sleeps == [0.1]
    assert (server.pid, server.base_url) == (100, url)
    await server.stop()


async def test_a_running_server_is_reused(harness: Harness) -> None:
    server = harness.server()
    first = await server.ensure_running()
    assert await server.ensure_running() == first
    assert len(harness.children) == 1
    await server.stop()


async def test_concurrent_calls_start_one_server(harness: Harness) -> None:
    server = harness.server()
    urls = await asyncio.gather(*(server.ensure_running() for _ in range(5)))
    assert len(set(urls)) == 1
    assert len(harness.children) == 1
    await server.stop()


async def test_a_child_that_exits_while_starting_is_reported_with_its_words(
    harness: Harness,
) -> None:
    server = harness.server()
    harness.ready_after = 10**6

    async def crash_on_launch() -> None:
        child = await harness.launched.get()
        child.exit(1, "llama_model_load: error loading model", "invalid magic")

    crashing = asyncio.create_task(crash_on_launch())
    with pytest.raises(ModelUnavailable) as caught:
        await server.ensure_running()
    await crashing
    assert caught.value.retryable
    assert "exited with code 1 while starting" in caught.value.message
    assert "invalid magic" in caught.value.message
    assert "'tiny' (tiny.gguf)" in caught.value.message
    assert server.pid is None


async def test_a_child_never_ready_is_killed_at_the_deadline(harness: Harness) -> None:
    harness.ready_after = 10**6
    server = harness.server(ready_timeout=1.0)
    with pytest.raises(ModelUnavailable, match=r"was not ready after 1 s"):
        await server.ensure_running()
    (child,) = harness.children
    assert child.returncode is not None
    assert child.stdin_closed
    assert child.signals[0] == "TERM"


async def test_a_dead_server_is_restarted_on_a_new_port(harness: Harness) -> None:
    server = harness.server()
    first = await server.ensure_running()
    (old,) = harness.children
    await harness.launched.get()

    old.exit(-9)  # killed from outside
    new = await harness.launched.get()  # the watcher starts another at once
    url = await server.ensure_running()

    assert new is not old
    assert url != first
    assert url == f"http://127.0.0.1:{new.argv[new.argv.index('--port') + 1]}/v1"
    assert server.restarts == 1
    assert server.pid == new.pid
    await server.stop()


async def test_crashes_in_a_row_back_off_longer_each_time(harness: Harness) -> None:
    harness.ready_after = 0
    server = harness.server(backoff_base=0.5, stable_after=30.0)
    await server.ensure_running()
    await harness.launched.get()
    pauses = []
    for _ in range(3):
        harness.sleeps.clear()
        harness.children[-1].exit(-11)
        await harness.launched.get()
        await server.ensure_running()
        pauses.append(sum(harness.sleeps))
    assert pauses == [0.5, 1.0, 2.0]

    # A server that served for a while before dying starts a new series.
    harness.now += 60
    harness.sleeps.clear()
    harness.children[-1].exit(-11)
    await harness.launched.get()
    await server.ensure_running()
    assert sum(harness.sleeps) == 0.5
    await server.stop()


async def test_a_failed_start_makes_the_next_call_wait_its_turn(harness: Harness) -> None:
    harness.ready_after = 10**6
    server = harness.server(ready_timeout=0.5, backoff_base=2.0)
    with pytest.raises(ModelUnavailable):
        await server.ensure_running()
    harness.ready_after = 0
    harness.sleeps.clear()
    await server.ensure_running()
    assert harness.sleeps == [2.0]
    assert len(harness.children) == 2
    await server.stop()


async def test_stop_ends_the_child_and_refuses_later_calls(harness: Harness) -> None:
    server = harness.server()
    await server.ensure_running()
    (child,) = harness.children

    await server.stop()

    assert child.stdin_closed
    assert child.signals == ["TERM"]
    assert child.returncode == -15
    assert server.pid is None
    with pytest.raises(ModelUnavailable, match="stopped with the platform") as caught:
        await server.ensure_running()
    assert not caught.value.retryable
    assert len(harness.children) == 1  # and nothing was restarted


async def test_stop_kills_a_child_that_ignores_terminate() -> None:
    harness = Harness(ignores_terminate=True)
    harness.ready_after = 0
    server = harness.server(stop_grace=0.01)
    await server.ensure_running()
    (child,) = harness.children
    await server.stop()
    assert child.signals == ["TERM", "KILL"]
    assert child.returncode == -9


async def test_stop_during_start_ends_the_starting_child(harness: Harness) -> None:
    harness.ready_after = 10**6
    server = harness.server()
    starting = asyncio.create_task(server.ensure_running())
    child = await harness.launched.get()
    await server.stop()
    with pytest.raises(ModelUnavailable, match="stopped with the platform"):
        await starting
    assert child.returncode is not None


async def test_a_cancelled_start_leaves_no_child_behind(harness: Harness) -> None:
    harness.ready_after = 10**6
    server = harness.server()
    starting = asyncio.create_task(server.ensure_running())
    child = await harness.launched.get()
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert child.returncode is not None
    assert server.pid is None

"""Keeps one llama.cpp server running as a child process on loopback.

llama.cpp's work is CPU-bound and would stall the event loop if it ran in
this process, so the model runs in a child (`python -m llama_cpp.server`
through `child`), and the platform talks to it with its ordinary
OpenAI-compatible adapter. This module owns the child's life:

- **started on demand**: the first call starts it, on a free loopback port,
  and waits until ``GET /v1/models`` answers (the model is loaded then);
- **restarted if it dies**: a watcher notices the exit at once and starts a
  new one, after a pause that doubles with each crash in a row (a child that
  crashes as it starts must not spin the machine), and a call that finds it
  dead starts it itself;
- **stopped with the platform**: `stop` ends it (politely, then by force);
  and since the child exits when its stdin closes, it also ends when this
  process dies without a chance to stop it.

Process creation, the readiness probe, the port picker, the clock and sleep
are injected, so the rules above are tested with a fake child.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import structlog

from ....ports.models import ModelUnavailable

__all__ = ["ChildProcess", "LlamaServer", "free_loopback_port", "probe_models"]

log = structlog.get_logger("swarmyard")

_HOST = "127.0.0.1"
_OUTPUT_LINES = 20  # the child's last lines, quoted when it fails


class ChildProcess(Protocol):
    """What the supervisor needs of a started process."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    async def wait(self) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...

    def output(self) -> AsyncIterator[str]:
        """The child's output lines (stdout and stderr), until it closes them."""
        ...

    def close_stdin(self) -> None: ...


Launcher = Callable[[list[str]], Awaitable[ChildProcess]]
Probe = Callable[[str], Awaitable[bool]]


class LlamaServer:
    """One `llama_cpp.server` child serving `model_file` as `alias`.

    `ensure_running()` returns the base URL of a ready server (``http://
    127.0.0.1:PORT/v1``), starting one when needed; it raises
    `ModelUnavailable` (retryable) when the child does not come up, quoting
    its last output lines. `context_tokens` 0 means the model's own context
    length. `threads` (generation) defaults to half the cores: the platform
    reads the token stream meanwhile, and on a 2-core machine one thread
    generates faster than two fighting it for the CPU (bench/local_model.py);
    the prompt is read with every core, while nothing else runs.
    """

    def __init__(
        self,
        model_file: Path,
        *,
        alias: str,
        provider: str = "local",
        context_tokens: int = 0,
        threads: int | None = None,
        launcher: Launcher | None = None,
        probe: Probe | None = None,
        ports: Callable[[], int] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
        ready_timeout: float = 120.0,
        poll_interval: float = 0.1,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        stable_after: float = 30.0,
        stop_grace: float = 5.0,
    ) -> None:
        self.model_file = model_file
        self.alias = alias
        self.provider = provider
        self._context_tokens = context_tokens
        cores = os.cpu_count() or 1
        self._threads = threads or max(1, cores // 2)
        self._batch_threads = threads or cores
        self._launch = launcher or launch_child
        self._probe = probe or probe_models
        self._ports = ports or free_loopback_port
        self._mono = monotonic
        self._sleep = sleep
        self._ready_timeout = ready_timeout
        self._poll = poll_interval
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._stable_after = stable_after
        self._stop_grace = stop_grace
        self._lock = asyncio.Lock()
        self._child: ChildProcess | None = None
        self._url: str | None = None
        self._started_at = 0.0
        self._failed_at: float | None = None
        self._crashes = 0  # in a row; a child that lived `stable_after` resets it
        self._stopped = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._output: deque[str] = deque(maxlen=_OUTPUT_LINES)
        self._reader: asyncio.Task[None] | None = None
        self.restarts = 0  # children started after the first

    @property
    def pid(self) -> int | None:
        """The running child's process id (None when there is none)."""
        child = self._child
        return child.pid if child is not None and child.returncode is None else None

    @property
    def base_url(self) -> str | None:
        return self._url if self.pid is not None else None

    def argv(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "swarmyard.adapters.llm.local.child",
            "--model",
            str(self.model_file),
            "--model_alias",
            self.alias,
            "--host",
            _HOST,
            "--port",
            str(port),
            "--n_ctx",
            str(self._context_tokens),
            "--n_threads",
            str(self._threads),
            "--n_threads_batch",
            str(self._batch_threads),
            "--verbose",
            "False",
        ]

    async def ensure_running(self) -> str:
        async with self._lock:
            if self._stopped:
                raise self._unavailable("was stopped with the platform", retryable=False)
            child = self._child
            if child is not None and child.returncode is None and self._url is not None:
                return self._url
            await self._wait_out_backoff()
            return await self._start()

    async def stop(self) -> None:
        """End the child and stop restarting it; later calls are refused."""
        self._stopped = True
        child, self._child, self._url = self._child, None, None
        watchers = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        if child is not None:
            await self._end(child)

    # ------------------------------------------------------------------ starting

    async def _start(self) -> str:
        if self._child is not None:
            self.restarts += 1
        port = self._ports()
        url = f"http://{_HOST}:{port}/v1"
        self._output.clear()
        try:
            child = await self._launch(self.argv(port))
        except OSError as exc:
            self._count_failure()
            raise self._unavailable(f"could not be started: {exc}") from None
        self._child, self._url = child, None
        self._reader = self._spawn(self._collect_output(child))
        self._started_at = self._mono()
        try:
            await self._until_ready(child, url)
        except BaseException:
            self._child = None
            await self._end(child)
            raise
        self._url = url
        self._spawn(self._watch(child))
        log.info("local model server ready", model=self.alias, url=url, pid=child.pid)
        return url

    async def _until_ready(self, child: ChildProcess, url: str) -> None:
        deadline = self._started_at + self._ready_timeout
        while True:
            if self._stopped:
                raise self._unavailable("was stopped with the platform", retryable=False)
            if child.returncode is not None:
                await self._read_to_end()
                self._count_failure()
                raise self._unavailable(
                    f"exited with code {child.returncode} while starting{self._said()}"
                )
            if await self._probe(url):
                return
            if self._mono() >= deadline:
                self._count_failure()
                raise self._unavailable(
                    f"was not ready after {self._ready_timeout:g} s{self._said()}"
                )
            await self._sleep(self._poll)

    async def _wait_out_backoff(self) -> None:
        if self._failed_at is None or self._crashes == 0:
            return
        pause = min(self._backoff_max, self._backoff_base * 2.0 ** (self._crashes - 1))
        remaining = self._failed_at + pause - self._mono()
        if remaining > 0:
            await self._sleep(remaining)

    def _count_failure(self) -> None:
        self._crashes += 1
        self._failed_at = self._mono()

    # ------------------------------------------------------------------ watching

    async def _watch(self, child: ChildProcess) -> None:
        code = await child.wait()
        if self._stopped or child is not self._child:
            return
        if self._mono() - self._started_at >= self._stable_after:
            self._crashes = 0  # it had been serving: this crash is the first of a new series
        self._count_failure()
        log.warning(
            "local model server died; restarting it",
            model=self.alias,
            pid=child.pid,
            code=code,
            output=" | ".join(self._output),
        )
        try:
            await self.ensure_running()
        except ModelUnavailable as exc:
            # The next call tries again (after the same backoff).
            log.warning("local model server restart failed", model=self.alias, error=exc.message)

    async def _collect_output(self, child: ChildProcess) -> None:
        async for line in child.output():
            if line.strip():
                self._output.append(line.rstrip())

    async def _end(self, child: ChildProcess) -> None:
        if child.returncode is None:
            child.close_stdin()
            child.terminate()
            try:
                await asyncio.wait_for(child.wait(), self._stop_grace)
            except TimeoutError:
                child.kill()
                await child.wait()

    async def _read_to_end(self) -> None:
        """Wait (briefly) for the output of a child that exited, to quote it."""
        reader = self._reader
        if reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), 2.0)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _said(self) -> str:
        return f"; it said: {' | '.join(self._output)}" if self._output else ""

    def _unavailable(self, what: str, *, retryable: bool = True) -> ModelUnavailable:
        return ModelUnavailable(
            f"the llama.cpp server for {self.alias!r} ({self.model_file.name}) {what}",
            provider=self.provider,
            model=self.alias,
            retryable=retryable,
        )


# ---------------------------------------------------------------------- defaults


class _AsyncioChild:
    """`ChildProcess` over an asyncio subprocess."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._p = process

    @property
    def pid(self) -> int:
        return self._p.pid

    @property
    def returncode(self) -> int | None:
        return self._p.returncode

    async def wait(self) -> int:
        return await self._p.wait()

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._p.terminate()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._p.kill()

    def close_stdin(self) -> None:
        if self._p.stdin is not None and not self._p.stdin.is_closing():
            self._p.stdin.close()

    async def output(self) -> AsyncIterator[str]:
        stream = self._p.stdout
        if stream is None:
            return
        while line := await stream.readline():
            yield line.decode("utf-8", "replace")


async def launch_child(argv: list[str]) -> ChildProcess:
    process = await asyncio.create_subprocess_exec(
        *argv,
        # The child exits when this pipe closes: when we stop it, or die.
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return _AsyncioChild(process)


async def probe_models(base_url: str) -> bool:
    """Whether the server answers ``GET /v1/models`` (it does once the model is loaded)."""
    import httpx  # noqa: PLC0415 (the CLI imports this package without starting a server)

    try:
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            response = await client.get(f"{base_url}/models")
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def free_loopback_port() -> int:
    """A port nothing listens on now; the child binds it a moment later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
    return port

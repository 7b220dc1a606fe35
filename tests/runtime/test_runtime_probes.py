"""The health endpoint of worker and scheduler processes, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from swarmyard.runtime.probes import ProbeServer


class Check:
    def __init__(self) -> None:
        self.answer: tuple[bool, dict[str, Any]] = (True, {"leader": True})
        self.error: Exception | None = None

    async def __call__(self) -> tuple[bool, dict[str, Any]]:
        if self.error is not None:
            raise self.error
        return self.answer


@pytest.fixture
async def probe() -> AsyncIterator[tuple[Check, httpx.AsyncClient]]:
    check = Check()
    server = ProbeServer(check, process="scheduler")
    port = await server.start("127.0.0.1", 0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield check, client
    await server.close()


async def test_liveness_and_readiness(probe: tuple[Check, httpx.AsyncClient]) -> None:
    check, client = probe
    alive = await client.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok", "process": "scheduler"})
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "process": "scheduler", "leader": True}

    check.answer = (False, {"reason": "shutting down"})
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["reason"] == "shutting down"
    # Liveness does not follow readiness: a restart would not help.
    assert (await client.get("/healthz")).status_code == 200

    check.error = ConnectionRefusedError("database down")
    ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["reason"]) == (503, "ConnectionRefusedError")


async def test_other_paths_and_methods_are_refused(
    probe: tuple[Check, httpx.AsyncClient],
) -> None:
    _, client = probe
    assert (await client.get("/metrics")).status_code == 404
    assert (await client.post("/healthz")).status_code == 405
    assert (await client.get("/healthz?verbose=1")).status_code == 200


async def test_a_silent_client_is_dropped_after_a_while_without_blocking_others(
    probe: tuple[Check, httpx.AsyncClient],
) -> None:
    _, client = probe
    port = client.base_url.port
    assert port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\n")  # ...and never the blank line
        await writer.drain()
        assert (await client.get("/healthz")).status_code == 200
    finally:
        writer.close()
        await reader.read()  # the server answers the torn request and hangs up


async def test_a_taken_port_is_an_os_error() -> None:
    first = ProbeServer(Check(), process="worker")
    port = await first.start("127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match="in use"):
            await ProbeServer(Check(), process="worker").start("127.0.0.1", port)
    finally:
        await first.close()

"""Every bus adapter, for tests that must hold on each of them: a factory
per adapter giving a bus for one test, closed (and its server-side traces
removed) on exit. The NATS one needs the `nats_server` fixture
(tests/conftest.py), which skips or fails when no server answers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from ..adapters.bus import MemoryBus
from ..adapters.bus.testing import scratch_bus
from ..ports import Bus

__all__ = ["BUS_ADAPTERS", "BusFactory"]

BusFactory = Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[Bus]]


@asynccontextmanager
async def _memory(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    bus = MemoryBus()
    try:
        yield bus
    finally:
        await bus.close()


@asynccontextmanager
async def _nats(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    async with scratch_bus(request.getfixturevalue("nats_server")) as bus:
        yield bus


BUS_ADAPTERS: dict[str, BusFactory] = {"memory": _memory, "nats": _nats}

"""Several containers in one event loop, each running one part of the
platform, sharing one store and one in-process bus — the processes of a
cluster in miniature (they share PostgreSQL and NATS)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import create_store
from swarmyard.adapters.store.testing import create_database, drop_database
from swarmyard.runtime.wiring import Container, Plan, build
from swarmyard.testing import embedded_settings

Make = Callable[..., Container]


class Shared:
    """One store or bus for several containers; the fixture closes it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def close(self) -> None:
        pass


async def _containers(tmp_path: Path, database_url: str) -> AsyncIterator[Make]:
    bus = MemoryBus()
    store = create_store(database_url)
    made: list[Container] = []

    def make(plan: Plan, **settings: Any) -> Container:
        lease = settings.pop("lease", None)
        values = {"offline_delay_ms": 20, "orchestrator_interval": 0.1, **settings}
        c = build(
            embedded_settings(tmp_path, database_url=database_url, **values),
            store=Shared(store),
            bus=Shared(bus),
            plan=plan,
            lease=lease,
        )
        made.append(c)
        return c

    try:
        yield make
    finally:
        for c in reversed(made):
            await asyncio.wait_for(c.stop(grace=5.0), 30)
        await bus.close()
        await store.close()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Make]:
    """Containers on a shared SQLite store."""
    async for make in _containers(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"):
        yield make


@pytest.fixture
async def pg_cluster(
    tmp_path: Path, postgres_server: URL, run_in_thread: Any
) -> AsyncIterator[Make]:
    """Containers on a shared, throwaway PostgreSQL database."""
    database = run_in_thread(create_database(postgres_server))
    try:
        async for make in _containers(tmp_path, database.render_as_string(hide_password=False)):
            yield make
    finally:
        run_in_thread(drop_database(postgres_server, database))

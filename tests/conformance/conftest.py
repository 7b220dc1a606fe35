"""Store fixtures of the conformance suites: one `store` per adapter.

PostgreSQL runs in a database created for this test session and dropped
after it; each test starts from empty tables. Without a server its tests
skip, or fail when SWARMYARD_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store import MemoryStore, SqlStore
from swarmyard.adapters.store.testing import (
    PostgresUnavailable,
    create_database,
    drop_database,
    empty_tables,
    find_postgres,
)
from swarmyard.ports import Store

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # A thread of its own keeps asyncio.run away from the tests' event loops.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[URL]:
    try:
        server = _run(find_postgres())
    except PostgresUnavailable as exc:
        if os.environ.get("SWARMYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{exc}; SWARMYARD_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(str(exc))
    database = _run(create_database(server))
    yield database
    _run(drop_database(server, database))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    instance: Store
    if request.param == "memory":
        instance = MemoryStore()
    elif request.param == "sqlite":
        instance = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    else:
        url: URL = request.getfixturevalue("postgres_url")
        instance = SqlStore(url.render_as_string(hide_password=False))
    await instance.migrate()
    if isinstance(instance, SqlStore) and instance.dialect == "postgresql":
        await empty_tables(instance)  # the session's database outlives each test
    yield instance
    await instance.close()

"""Store fixtures of the conformance suites: one `store` per adapter, and
`st`, that store holding the suites' workspaces ws-a and ws-b.

PostgreSQL runs in a database created for this test session and dropped
after it; each test starts from empty tables. Without a server its tests
skip, or fail when SWARMYARD_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store import MemoryStore, SqlStore
from swarmyard.adapters.store.testing import (
    create_database,
    drop_database,
    empty_tables,
)
from swarmyard.domain import Workspace
from swarmyard.ports import Store


@pytest.fixture(scope="session")
def postgres_url(postgres_server: URL, run_in_thread: Any) -> Iterator[URL]:
    database = run_in_thread(create_database(postgres_server))
    yield database
    run_in_thread(drop_database(postgres_server, database))


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


@pytest.fixture
async def st(store: Store) -> Store:
    created = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the suites' T0
    await store.add_workspace(Workspace("ws-a", "Alpha", created))
    await store.add_workspace(Workspace("ws-b", "Beta", created))
    return store

"""Fixtures of the SQL store's own tests: a database URL per dialect.

PostgreSQL runs in a database created for this test session and dropped
after it. Without a server its tests skip, or fail when
SWARMYARD_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store.testing import (
    PostgresUnavailable,
    create_database,
    drop_database,
    find_postgres,
)

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # A thread of its own keeps asyncio.run away from the tests' event loops.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    try:
        return _run(find_postgres())
    except PostgresUnavailable as exc:
        if os.environ.get("SWARMYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{exc}; SWARMYARD_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(str(exc))


@pytest.fixture
def fresh_postgres(postgres_server: URL) -> Iterator[str]:
    """An empty database of its own (schema tests need a blank slate)."""
    database = _run(create_database(postgres_server))
    yield database.render_as_string(hide_password=False)
    _run(drop_database(postgres_server, database))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("fresh_postgres")
    return url

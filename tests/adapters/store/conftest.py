"""Fixtures of the SQL store's own tests: a database URL per dialect.

PostgreSQL runs in a database created for this test session and dropped
after it. Without a server its tests skip, or fail when
SWARMYARD_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store.testing import (
    create_database,
    drop_database,
)


@pytest.fixture
def fresh_postgres(postgres_server: URL, run_in_thread: Any) -> Iterator[str]:
    """An empty database of its own (schema tests need a blank slate)."""
    database = run_in_thread(create_database(postgres_server))
    yield database.render_as_string(hide_password=False)
    run_in_thread(drop_database(postgres_server, database))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("fresh_postgres")
    return url

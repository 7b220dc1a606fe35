"""The embedded platform on each SQL database the store supports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store.testing import create_database, drop_database
from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def any_db_platform(
    request: pytest.FixtureRequest, tmp_path: Path, run_in_thread: Any
) -> AsyncIterator[Container]:
    overrides: dict[str, Any] = {}
    server: URL | None = None
    database: URL | None = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        database = run_in_thread(create_database(server))
        overrides["database_url"] = database.render_as_string(hide_password=False)
    container = build(embedded_settings(tmp_path, **overrides))
    await container.start()
    try:
        yield container
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)
        if server is not None and database is not None:
            run_in_thread(drop_database(server, database))

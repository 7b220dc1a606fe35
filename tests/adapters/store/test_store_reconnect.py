"""PostgreSQL restarts under a running store: the next unit of work reconnects.

Restarts the test machine's server (it comes back within seconds), so it is
marked slow and postgres; it skips where the cluster cannot be controlled
from here (not root, no pg_ctlcluster) — unless SWARMYARD_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store import SqlStore
from swarmyard.adapters.store.testing import create_database, drop_database, restart_command
from swarmyard.domain import Project, Workspace

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _restart_command() -> list[str]:
    command = restart_command()
    if command is None:
        reason = "restarting PostgreSQL needs root and pg_ctlcluster on this machine"
        if os.environ.get("SWARMYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return command


@pytest.fixture
def database(postgres_server: URL, run_in_thread: Any) -> Iterator[URL]:
    db = run_in_thread(create_database(postgres_server))
    yield db
    run_in_thread(drop_database(postgres_server, db))


async def test_the_store_reconnects_after_a_server_restart(database: URL) -> None:
    command = _restart_command()
    store = SqlStore(database.render_as_string(hide_password=False))
    now = datetime(2026, 11, 22, tzinfo=UTC)
    try:
        await store.migrate()
        await store.add_workspace(Workspace("w1", "W", now))
        async with store.unit_of_work("w1") as uow:  # the pool now holds a connection
            await uow.projects.add(Project("p1", "w1", "Before", now))
            await uow.commit()
        restart = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        _, err = await asyncio.wait_for(restart.communicate(), 120)
        assert restart.returncode == 0, err.decode()
        async with store.unit_of_work("w1") as uow:
            await uow.projects.add(Project("p2", "w1", "After", now))
            await uow.commit()
        async with store.unit_of_work("w1") as uow:
            assert sorted(p.name for p in await uow.projects.list()) == ["After", "Before"]
    finally:
        await store.close()

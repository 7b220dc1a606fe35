"""What embedded mode relies on from the SQLite set-up: the pragmas on every
connection, and read-then-write units of work that never fail with
"database is locked", whether they race inside one process or across two."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

import swarmyard
from swarmyard.adapters.store import MemoryStore, SqlStore, sqlite_inline
from swarmyard.domain import Agent, FakeClock, Task, TaskStatus, Workspace
from swarmyard.ports import Store, TaskFilter

NOW = FakeClock().now()

_WORKER = """
import asyncio, sys
from datetime import UTC, datetime
from swarmyard.adapters.store import SqlStore
from swarmyard.domain import EventType, RunEvent

async def main(url: str, name: str, rounds: int, tasks: int) -> None:
    store = SqlStore(url)

    async def work(k: int) -> None:
        for i in range(rounds):
            async with store.unit_of_work("w") as uow:
                # Read first, then write: a deferred transaction would have to
                # upgrade its lock here, which SQLite refuses while others write.
                agent = await uow.agents.get("a1")
                await uow.agents.add_usage("a1", succeeded=1, tokens_in=agent.replicas)
                event = RunEvent(f"{name}-{k}", "w", i + 1, EventType.STEP, datetime.now(UTC))
                await uow.events.append([event])
                await uow.commit()

    await asyncio.gather(*(work(k) for k in range(tasks)))
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
"""


@pytest.fixture
async def sqlite(tmp_path: Path) -> SqlStore:
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'store.db'}")
    await store.migrate()
    await store.add_workspace(Workspace("w", "W", NOW))
    async with store.unit_of_work("w") as uow:
        await uow.agents.add(Agent("a1", "w", "A", "m", "1.0.0", "developer", 3, NOW))
        await uow.commit()
    return store


async def test_every_connection_gets_the_pragmas(sqlite: SqlStore) -> None:
    expected = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 0, "synchronous": 1}
    async with sqlite.engine.connect() as first, sqlite.engine.connect() as second:
        for conn in (first, second):
            for pragma, value in expected.items():
                assert (await conn.exec_driver_sql(f"PRAGMA {pragma}")).scalar() == value
            await conn.rollback()  # every transaction holds the write lock: end it
    await sqlite.close()


async def test_two_processes_racing_never_see_a_locked_database(sqlite: SqlStore) -> None:
    rounds, tasks = 40, 4
    env = {**os.environ, "PYTHONPATH": str(Path(swarmyard.__file__).parents[1])}
    url = sqlite.engine.url.render_as_string(hide_password=False)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WORKER,
            url,
            name,
            str(rounds),
            str(tasks),
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for name in ("p1", "p2")
    ]
    for process in processes:
        _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
    async with sqlite.unit_of_work("w") as uow:
        agent = await uow.agents.get("a1")
        assert agent.tasks_succeeded == 2 * rounds * tasks
        assert agent.tokens_in == 3 * 2 * rounds * tasks
        assert len(await uow.events.list("p2-3")) == rounds
    await sqlite.close()


async def test_the_data_directory_is_created(tmp_path: Path, sqlite: SqlStore) -> None:
    assert (tmp_path / "nested" / "dir" / "store.db").is_file()
    await sqlite.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_nested_unit_of_work_fails_fast(kind: str, sqlite: SqlStore) -> None:
    store: Store = MemoryStore() if kind == "memory" else sqlite
    async with store.unit_of_work("w"):
        with pytest.raises(RuntimeError, match="already open in this task"):
            async with store.unit_of_work("w"):
                pass
    await store.close()
    await sqlite.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_identity_and_units_of_work_do_not_nest(kind: str, sqlite: SqlStore) -> None:
    # Both take the one write gate: nesting them in one task would wait forever.
    store: Store = MemoryStore() if kind == "memory" else sqlite
    async with store.unit_of_work("w"):
        with pytest.raises(RuntimeError, match="already open in this task"):
            async with store.identity():
                pass
    async with store.identity():
        with pytest.raises(RuntimeError, match="already open in this task"):
            async with store.unit_of_work("w"):
                pass
        with pytest.raises(RuntimeError, match="already open in this task"):
            async with store.identity():
                pass
    async with store.identity() as idn:  # the gate was given back each time
        assert await idn.api_key("nope") is None
    await store.close()
    await sqlite.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_text_search_folds_non_ascii_case(kind: str, sqlite: SqlStore) -> None:
    store: Store = MemoryStore() if kind == "memory" else sqlite
    if kind == "memory":
        await store.add_workspace(Workspace("w", "W", NOW))
    async with store.unit_of_work("w") as uow:
        await uow.tasks.add(Task("t1", "w", "ÄRGER im Büro", "bugfix", NOW))
        await uow.tasks.add(Task("t2", "w", "other", "bugfix", NOW, status=TaskStatus.DONE))
        found = await uow.tasks.list(TaskFilter(text="ärger IM bü"))
        assert [t.id for t in found] == ["t1"]
    await sqlite.close()


def _hold_write_lock(store: SqlStore) -> sqlite3.Connection:
    """Another process's view: a plain connection holding SQLite's write lock."""
    holder = sqlite3.connect(store.engine.url.database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def test_a_busy_statement_waits_for_the_lock_without_blocking_the_loop(
    sqlite: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    retried = asyncio.Event()
    is_busy = sqlite_inline._busy

    def busy(exc: sqlite3.OperationalError) -> bool:
        retried.set()
        return is_busy(exc)

    monkeypatch.setattr(sqlite_inline, "_busy", busy)
    holder = _hold_write_lock(sqlite)

    async def write() -> None:
        async with sqlite.unit_of_work("w") as uow:
            await uow.agents.add_usage("a1", succeeded=1)
            await uow.commit()

    writer = asyncio.create_task(write())
    # The loop keeps turning while the writer waits: this await returns.
    await asyncio.wait_for(retried.wait(), 5)
    assert not writer.done()
    holder.commit()
    holder.close()
    await asyncio.wait_for(writer, 5)
    async with sqlite.unit_of_work("w") as uow:
        assert (await uow.agents.get("a1")).tasks_succeeded == 1
    await sqlite.close()


async def test_a_statement_busy_for_too_long_fails_and_changes_nothing(
    sqlite: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "BUSY_SECONDS", 0.05)

    async def write() -> None:
        async with sqlite.unit_of_work("w") as uow:
            await uow.agents.add_usage("a1", succeeded=1)
            await uow.commit()

    holder = _hold_write_lock(sqlite)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            await write()
    finally:
        holder.rollback()
        holder.close()
    async with sqlite.unit_of_work("w") as uow:
        assert (await uow.agents.get("a1")).tasks_succeeded == 0
    await sqlite.close()

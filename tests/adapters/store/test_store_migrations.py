"""The shipped Alembic revisions: they build exactly `tables.metadata` on
SQLite and PostgreSQL alike, run from the installed package without an
alembic.ini, and are safe to run again or from several processes at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from swarmyard.adapters.store import SqlStore
from swarmyard.adapters.store.migrator import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    head_revision,
)
from swarmyard.adapters.store.tables import is_search_index, metadata
from swarmyard.domain import Workspace
from swarmyard.domain.clock import FakeClock

NOW = FakeClock().now()
# The tables revision 0004 adds, gone again below it.
_SPENDING = {
    "budgets",
    "budget_counters",
    "budget_reservations",
    "ledger",
    "model_prices",
    "providers",
    "workspace_documents",
}
# The tables revisions after 0004 add.
_LATER = {
    "approvals",
    "memory_items",
    "memory_vectors",
    "mcp_servers",
    "skill_installations",
    "skill_packs",
}


def _described(name: str | None, type_: str, parents: object) -> bool:
    # The full-text indexes of memory items are outside the metadata (tables.py).
    return not is_search_index(name)


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"include_name": _described})
    return list(compare_metadata(context, metadata))


def _tables(conn: Connection) -> set[str]:
    return {t for t in inspect(conn).get_table_names() if not is_search_index(t)}


async def test_head_matches_the_table_metadata(sql_url: str) -> None:
    store = SqlStore(sql_url)
    try:
        await store.migrate()
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
        assert await current_revision(store.engine) == head_revision()
    finally:
        await store.close()


async def test_migrating_again_keeps_schema_and_rows(sql_url: str) -> None:
    store = SqlStore(sql_url)
    try:
        await store.migrate()
        await store.add_workspace(Workspace("w1", "One", FakeClock().now()))
        await store.migrate()
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_tables) == {*metadata.tables, "alembic_version"}
        assert [w.id for w in await store.list_workspaces()] == ["w1"]
    finally:
        await store.close()


async def test_concurrent_first_starts_both_succeed(sql_url: str) -> None:
    stores = [SqlStore(sql_url) for _ in range(3)]
    try:
        await asyncio.gather(*(s.migrate() for s in stores))
        assert await current_revision(stores[0].engine) == head_revision()
    finally:
        for store in stores:
            await store.close()


async def test_downgrade_to_base_and_back(sql_url: str) -> None:
    store = SqlStore(sql_url)
    try:
        await store.migrate()
        async with store.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_tables) == {"alembic_version"}
        await store.migrate()
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await store.close()


async def test_downgrading_the_settings_keeps_every_other_row(sql_url: str) -> None:
    store = SqlStore(sql_url)
    try:
        await store.migrate()
        await store.add_workspace(Workspace("w1", "One", NOW))
        async with store.unit_of_work("w1") as uow:
            await uow.rules.set("forbid (principal, action, resource);", at=NOW, by="user:u1")
            await uow.commit()
        async with store.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0002"))
        async with store.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
        assert tables == {*metadata.tables, "alembic_version"} - {
            "workspace_settings",
            *_SPENDING,
            *_LATER,
        }
        assert await current_revision(store.engine) == "0002"
        assert [w.id for w in await store.list_workspaces()] == ["w1"]
        await store.migrate()
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
        async with store.unit_of_work("w1") as uow:
            assert await uow.rules.get() == ""
    finally:
        await store.close()


async def test_runs_without_an_ini_file_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini in sight
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'db' / 'store.db'}")
    try:
        await store.migrate()
        assert await current_revision(store.engine) == head_revision()
    finally:
        await store.close()


def test_scripts_live_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert list((MIGRATIONS / "versions").glob("r*.py"))
    assert head_revision() is not None

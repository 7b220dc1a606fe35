"""Deleting a workspace reaches every table that holds its rows, including
tables added after this test was written.

The list of tables the stores delete from is explicit (`OWNED_TABLES`, and
its memory counterpart); these tests derive the expected list from
`tables.metadata` instead, so a new table with a `workspace_id` column
fails here until it is added. The SQL test writes a row into every such
table directly, with values made up from the column types, so it needs no
change when a table is added either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Table, func, insert, select

from swarmyard.adapters.store import SqlStore
from swarmyard.adapters.store.coltypes import UtcDateTime
from swarmyard.adapters.store.memory_base import MemoryState
from swarmyard.adapters.store.memory_workspace import owned_tables
from swarmyard.adapters.store.sql_workspace import OWNED_TABLES
from swarmyard.adapters.store.tables import metadata, users, workspaces
from swarmyard.domain import NotFound

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"

# Every table with a workspace_id column, whatever its foreign keys say.
WITH_WORKSPACE = {t.name for t in metadata.tables.values() if "workspace_id" in t.c}


def test_every_table_with_a_workspace_id_is_deleted_from() -> None:
    names = [t.name for t in OWNED_TABLES]
    assert len(names) == len(set(names)), "a table is listed twice"
    assert set(names) == WITH_WORKSPACE


def test_tables_are_deleted_from_before_the_tables_they_reference() -> None:
    for position, table in enumerate(OWNED_TABLES):
        later = set(OWNED_TABLES[position + 1 :])
        for fk in table.foreign_keys:
            parent = fk.column.table
            assert parent in later or parent in (workspaces, users), (
                f"{table.name} references {parent.name}, which is not deleted after it"
            )


def test_the_memory_store_deletes_from_the_same_tables() -> None:
    assert set(owned_tables(MemoryState())) == WITH_WORKSPACE


def _made_up_row(table: Table, ws: str) -> dict[str, Any]:
    """A row of `table` for workspace `ws`, every column given a plausible value."""
    row: dict[str, Any] = {}
    for column in table.c:
        if column is table.autoincrement_column:
            continue
        if column.name == "workspace_id":
            row[column.name] = ws
        elif any(fk.column.table is users for fk in column.foreign_keys):
            row[column.name] = "u1"
        elif parents := [fk.column for fk in column.foreign_keys]:
            # Another owned table's row of the same workspace, made up the same way.
            row[column.name] = f"{ws}-{parents[0].name}"
        elif isinstance(column.type, UtcDateTime):
            row[column.name] = T0
        elif isinstance(column.type, JSON):
            row[column.name] = {}
        else:
            made_up = {str: f"{ws}-{column.name}", int: 1, float: 0.5, bool: True, bytes: b"x"}
            kind = column.type.python_type
            assert kind in made_up, f"teach _made_up_row a value for {table.name}.{column.name}"
            row[column.name] = made_up[kind]
    return row


async def _counts(store: SqlStore, ws: str) -> dict[str, int]:
    async with store.engine.connect() as conn:
        return {
            name: (
                await conn.execute(
                    select(func.count()).where(metadata.tables[name].c.workspace_id == ws)
                )
            ).scalar_one()
            for name in sorted(WITH_WORKSPACE)
        }


async def test_a_row_in_every_table_is_deleted_with_its_workspace(sql_url: str) -> None:
    store = SqlStore(sql_url)
    try:
        await store.migrate()
        async with store.engine.begin() as conn:
            await conn.execute(
                insert(users).values(
                    id="u1",
                    email="u1@example.com",
                    name="U",
                    password_hash="h",
                    created_at=T0,
                    disabled=False,
                )
            )
            for ws in (A, B):
                await conn.execute(insert(workspaces).values(id=ws, name=ws, created_at=T0))
                for name in sorted(WITH_WORKSPACE):
                    table = metadata.tables[name]
                    await conn.execute(insert(table).values(_made_up_row(table, ws)))
        assert await _counts(store, A) == dict.fromkeys(sorted(WITH_WORKSPACE), 1)

        await store.delete_workspace(A)

        assert await _counts(store, A) == dict.fromkeys(sorted(WITH_WORKSPACE), 0)
        assert await _counts(store, B) == dict.fromkeys(sorted(WITH_WORKSPACE), 1)
        assert [w.id for w in await store.list_workspaces()] == [B]
        async with store.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(users))).scalar_one() == 1
        with pytest.raises(NotFound):
            await store.delete_workspace(A)
    finally:
        await store.close()


async def test_delete_takes_the_write_gate_on_sqlite(tmp_path: Path) -> None:
    """SQLite admits one writer: the delete queues at the store's gate like a
    unit of work (the gate refuses a second entry from the task holding it),
    rather than contending for the database's file lock."""
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    try:
        await store.migrate()
        async with store.engine.begin() as conn:
            await conn.execute(insert(workspaces).values(id=A, name=A, created_at=T0))
        async with store.unit_of_work(A) as uow:
            await uow.rules.set("forbid (principal, action, resource);", at=T0, by="user:u1")
            with pytest.raises(RuntimeError, match="already open in this task"):
                await store.delete_workspace(A)
            await uow.commit()
        await store.delete_workspace(A)
        assert await store.list_workspaces() == []
    finally:
        await store.close()

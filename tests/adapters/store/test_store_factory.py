"""`create_store` picks the adapter from the URL and names what it cannot use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from swarmyard.adapters.store import MemoryStore, SqlStore, create_store


async def test_memory() -> None:
    assert isinstance(create_store("memory://"), MemoryStore)


@pytest.mark.parametrize("scheme", ["sqlite+aiosqlite", "sqlite"])
async def test_sqlite_creates_the_parent_directory(scheme: str, tmp_path: Path) -> None:
    path = tmp_path / "data" / "swarmyard.db"
    store = create_store(f"{scheme}:///{path}")
    assert isinstance(store, SqlStore)
    assert store.dialect == "sqlite"
    assert path.parent.is_dir()
    await store.close()


@pytest.mark.parametrize("scheme", ["postgresql+asyncpg", "postgresql"])
async def test_postgresql_connects_lazily(scheme: str) -> None:
    store = create_store(f"{scheme}://nobody@127.0.0.1:1/none")
    assert isinstance(store, SqlStore)
    assert store.dialect == "postgresql"
    await store.close()


@pytest.mark.parametrize(
    ("url", "named"),
    [("mysql://h/db", "'mysql'"), ("postgresql+psycopg://h/db", "'postgresql+psycopg'")],
)
def test_unsupported_schemes_are_named(url: str, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)) as info:
        create_store(url)
    assert "memory://" in str(info.value)
    assert "postgresql+asyncpg" in str(info.value)


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_points_to_the_memory_store(url: str) -> None:
    with pytest.raises(ValueError, match="memory://"):
        create_store(url)


def test_garbage_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot parse"):
        create_store("not a url")

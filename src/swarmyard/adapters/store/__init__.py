"""Adapters of the `Store` port: SQLite and PostgreSQL (`SqlStore`) and in-memory
(`MemoryStore`). All three pass one conformance suite
(``tests/conformance/test_store.py``).

Pick one by URL with `create_store`; call `Store.migrate()` before use.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from swarmyard.ports import Store

from .engine import database_url
from .memory import MemoryStore, MemoryUnitOfWork
from .memory_identity import MemoryIdentityUnitOfWork
from .sql_identity import SqlIdentityUnitOfWork
from .sql_store import SqlStore, SqlUnitOfWork

__all__ = [
    "MemoryIdentityUnitOfWork",
    "MemoryStore",
    "MemoryUnitOfWork",
    "SqlIdentityUnitOfWork",
    "SqlStore",
    "SqlUnitOfWork",
    "create_store",
]


def create_store(url: str) -> Store:
    """``memory://`` → `MemoryStore`; ``sqlite+aiosqlite:///path`` or
    ``postgresql+asyncpg://…`` (or the same without the driver) → `SqlStore`.

    Raises ValueError naming the scheme when it is none of these.
    """
    if urlsplit(url).scheme == "memory":
        return MemoryStore()
    database_url(url)  # refuses other schemes before anything is created
    return SqlStore(url)

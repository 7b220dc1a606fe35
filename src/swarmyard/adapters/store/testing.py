"""Throwaway PostgreSQL databases for tests of the store and of code built on it.

Tests must not touch a database somebody uses, and parallel test sessions
must not see each other's rows: each session gets a freshly created
database with a unique name, dropped at the end. Nothing here imports
pytest; the test suites decide whether an unreachable server means skip
or fail.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
from pathlib import Path

from sqlalchemy import NullPool, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from .engine import database_url
from .sql_store import SqlStore
from .tables import metadata

__all__ = [
    "PostgresUnavailable",
    "create_database",
    "drop_database",
    "empty_tables",
    "find_postgres",
    "restart_command",
]

# Where a test session looks for a server, unless SWARMYARD_TEST_POSTGRES_URL says.
_CANDIDATES = (
    "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    f"postgresql+asyncpg://{getpass.getuser()}@127.0.0.1:5432/test",
)


class PostgresUnavailable(Exception):
    """No PostgreSQL server answered; the message says where it was looked for."""


async def find_postgres() -> URL:
    """The URL of a reachable server's maintenance database."""
    configured = os.environ.get("SWARMYARD_TEST_POSTGRES_URL")
    candidates = (configured,) if configured else _CANDIDATES
    failures = []
    for candidate in dict.fromkeys(candidates):
        url = database_url(candidate)
        try:
            await _execute(url, "SELECT 1")
        except (OSError, DBAPIError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            failures.append(f"{url.render_as_string(hide_password=True)}: {reason}")
            continue
        return url
    raise PostgresUnavailable("PostgreSQL not reachable (" + "; ".join(failures) + ")")


async def create_database(server: URL) -> URL:
    """Create an empty, uniquely named database; its URL."""
    name = f"swarmyard_test_{secrets.token_hex(6)}"
    await _execute(server, f'CREATE DATABASE "{name}"')
    return server.set(database=name)


async def drop_database(server: URL, database: URL) -> None:
    # FORCE ends connections a failed test may have leaked.
    await _execute(server, f'DROP DATABASE IF EXISTS "{database.database}" WITH (FORCE)')


async def empty_tables(store: SqlStore) -> None:
    """Remove every row, keeping the schema (much faster than a new database;
    on tables of a test's size DELETE also beats TRUNCATE)."""
    async with store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


def restart_command() -> list[str] | None:
    """The command that restarts this machine's PostgreSQL cluster (Debian's
    pg_ctlcluster, as root), or None where it cannot be restarted from here."""
    tool = shutil.which("pg_ctlcluster")
    conf = Path("/etc/postgresql")
    versions = sorted(conf.glob("*")) if conf.is_dir() else []
    if tool is None or not versions or os.geteuid() != 0:
        return None
    return [tool, "--skip-systemctl-redirect", versions[-1].name, "main", "restart"]


async def _execute(url: URL, sql: str) -> None:
    # CREATE/DROP DATABASE refuse to run inside a transaction.
    engine = create_async_engine(
        url,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"timeout": 5},  # an absent server should not stall a test session
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()

"""Engines for the two supported databases, set up the way the store relies on.

SQLite needs care to be a safe multi-writer store:

* WAL so readers never block the writer, foreign keys on, a busy timeout so
  a second process waits for the file lock instead of failing, and
  `synchronous=NORMAL` (durable at each WAL checkpoint, fast commits).
* Every transaction starts with ``BEGIN IMMEDIATE``. A deferred transaction
  that reads and then writes must upgrade its lock, and SQLite answers that
  upgrade with SQLITE_BUSY at once, without honouring `busy_timeout`, when
  another connection has written meanwhile. Taking the write lock up front
  makes the wait happen at BEGIN, where the timeout applies. The driver's
  own transaction handling is switched off so that only this BEGIN is sent.
* `lower()` is Python's, so case-insensitive search folds non-ASCII text
  like PostgreSQL and the memory store do.
* Statements run on the event loop's thread, not on aiosqlite's worker
  thread (`sqlite_inline.py`). Writers queue on one in-process gate, so the
  one holding it should finish quickly: with a thread hop per statement its
  transaction took a full turn of a busy event loop per statement, and every
  other writer waited that long (ADR 11).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .sqlite_inline import inline_connector

__all__ = ["READ_ONLY", "SUPPORTED", "create_engine", "database_url"]

# Execution option of a connection that only reads: on SQLite it begins a
# deferred transaction, which takes no write lock and never waits for one.
READ_ONLY = "swarmyard_read_only"

SUPPORTED = "memory://, sqlite+aiosqlite:///PATH (or sqlite:///PATH), postgresql+asyncpg://… "
SUPPORTED += "(or postgresql://…)"

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}

# busy_timeout comes first: switching a new database to WAL takes a lock.
# It is 0 because SQLite's own wait would block the event loop: a busy
# statement is retried with asyncio sleeps instead (`sqlite_inline.py`).
_PRAGMAS = (
    "PRAGMA busy_timeout=0",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def database_url(url: str) -> URL:
    """The URL with its async driver; ValueError naming the scheme if unsupported."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"cannot parse database URL {url!r}; supported: {SUPPORTED}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL scheme {parsed.drivername!r}; supported: {SUPPORTED}"
        )
    return parsed.set(drivername=driver)


def create_engine(url: str) -> AsyncEngine:
    parsed = database_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_async_engine(parsed)
        event.listen(engine.sync_engine, "checkout", _drop_closed_connection)
        return engine
    if parsed.database in (None, "", ":memory:"):
        # Each pooled connection would see a database of its own.
        raise ValueError("an in-memory SQLite database cannot back the store; use memory://")
    _make_parent_dir(parsed)
    engine = create_async_engine(parsed, async_creator=inline_connector(parsed))
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _make_parent_dir(url: URL) -> None:
    path = url.database
    if path and not path.startswith("file:"):
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _drop_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed, so the pool opens another.

    After a PostgreSQL restart the server closes every session and asyncpg,
    reading the end of the stream, marks its connection closed; checking
    that flag costs nothing, where SQLAlchemy's `pool_pre_ping` spends three
    round trips (BEGIN, SELECT 1, ROLLBACK) on every checkout — as many as
    a small unit of work. A connection that dies unnoticed (a silent network
    partition) fails its transaction, and SQLAlchemy then drops the whole pool.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # no implicit BEGIN: _sqlite_begin sends ours
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value

"""aiosqlite connections whose statements run on the event loop's thread.

aiosqlite sends every call (each statement, each fetch) to a worker thread
and wakes the event loop with the answer. On a busy loop that answer waits
behind everything else that is ready, so a unit of work of ten statements
spends ten turns of the loop between BEGIN and COMMIT, and holds the store's
write gate all along (`gate.py`): the embedded platform then did a few
tasks a second while mostly idle (ADR 11). A statement on SQLite takes tens
of microseconds, less than the hop itself, so running it in place is both
faster and fairer; the worker thread only opens and closes the connection.

SQLite's busy handler would block the loop while another process holds
the write lock, so the connections run with `busy_timeout=0` and a busy
statement is retried here with asyncio sleeps, for as long as
`BUSY_SECONDS`. A busy statement has had no effect, so retrying it is safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import URL

__all__ = ["BUSY_SECONDS", "InlineConnection", "inline_connector"]

# How long a statement waits for another process's write lock.
BUSY_SECONDS = 5.0
_FIRST_PAUSE = 0.001
_LONGEST_PAUSE = 0.05
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class InlineConnection(aiosqlite.Connection):
    """`aiosqlite.Connection` that runs its calls in place."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        loop = asyncio.get_running_loop()
        give_up = loop.time() + BUSY_SECONDS
        pause = _FIRST_PAUSE
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or loop.time() >= give_up:
                    raise
            await asyncio.sleep(pause)
            pause = min(2 * pause, _LONGEST_PAUSE)


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(exc) or "busy" in str(exc)


def inline_connector(url: URL) -> Callable[[], InlineConnection]:
    """SQLAlchemy's `async_creator` for `url`: the file and options its own
    aiosqlite dialect would open, on an `InlineConnection`."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(url)
    # The thread opens the connection, the loop's thread uses it.
    kwargs["check_same_thread"] = False

    def connect() -> InlineConnection:
        conn = InlineConnection(partial(sqlite3.connect, *args, **kwargs), iter_chunk_size=64)
        conn._thread.daemon = True  # as SQLAlchemy sets it: never keeps the process alive
        return conn

    return connect

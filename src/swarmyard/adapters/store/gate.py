"""One writer at a time inside a process, for the stores that allow only one.

SQLite admits a single writing transaction per database, and the memory
store gives each unit of work the whole store. Letting asyncio tasks queue
on a lock (first come, first served) is cheaper and fairer than letting
them poll SQLite's file lock with `busy_timeout`; the file lock still
arbitrates between processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["WriteGate"]


class WriteGate:
    def __init__(self, timeout: float = 30.0) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[object] | None = None
        self._timeout = timeout

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            # Waiting here would wait for ourselves forever.
            raise RuntimeError(
                "a unit of work is already open in this task; this store runs one "
                "at a time, so finish (commit or leave) the first before opening another"
            )
        try:
            async with asyncio.timeout(self._timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise TimeoutError(
                f"waited {self._timeout:g} s for the store: another unit of work has been "
                "open that long (is a transaction held across a slow await?)"
            ) from None
        self._owner = task
        try:
            yield
        finally:
            self._owner = None
            self._lock.release()

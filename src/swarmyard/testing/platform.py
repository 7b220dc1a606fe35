"""A throw-away embedded platform for tests of code that embeds Swarmyard, and
waiting on the board without polling loops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Settings
from ..domain import Task, subjects
from ..runtime.wiring import Container

__all__ = ["embedded_settings", "wait_for_task"]


def embedded_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a throw-away embedded platform under `tmp_path` (SQLite,
    in-process bus, short intervals so tests run quickly)."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'swarmyard.db'}",
        "orchestrator_interval": 0.2,
        "lease_seconds": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


async def wait_for_task(
    c: Container,
    workspace_id: str,
    task_id: str,
    done: Callable[[Task], bool],
    timeout: float = 30.0,
) -> Task:
    """Re-read the task whenever the board changes until `done(task)` holds.

    The subscription is made before the first read, so no change is missed.
    """
    sub = await c.bus.subscribe(subjects.board(workspace_id))
    try:
        async with asyncio.timeout(timeout):
            while True:
                task = await c.tasks.get(workspace_id, task_id)
                if done(task):
                    return task
                await sub.next()
    finally:
        await sub.unsubscribe()

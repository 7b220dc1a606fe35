"""The store repository of long-term memory and shared context.

Scoped to the unit of work's workspace like every repository. Every read
takes `now` and leaves out items that have expired by then, so an expired
item is never answered, however long its row lingers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..domain import MemoryItem, MemoryKind

__all__ = ["MemoryQuery", "MemoryRepo"]


@dataclass(frozen=True, slots=True)
class MemoryQuery:
    # Words to look for (domain.memory.search_terms cuts them): an item
    # matches when it holds any of them, best matches first. Empty: every
    # item, newest first.
    text: str = ""
    # An agent's view: its own items and the workspace-wide ones. None:
    # every item of the workspace.
    agent_id: str | None = None
    kind: MemoryKind | None = None
    run_ids: Sequence[str] | None = None  # only items these runs wrote
    limit: int = 20


class MemoryRepo(Protocol):
    async def add(self, item: MemoryItem) -> None:
        """Raises Conflict if the id is taken."""
        ...

    async def get(self, item_id: str, *, now: datetime) -> MemoryItem:
        """Raises NotFound (also for an expired item)."""
        ...

    async def delete(self, item_id: str) -> None:
        """Raises NotFound."""
        ...

    async def search(self, query: MemoryQuery, *, now: datetime) -> list[MemoryItem]:
        """Live items matching the query; ties (and a query without words)
        newest first."""
        ...

    async def delete_expired(self, now: datetime, *, limit: int = 500) -> int:
        """Remove up to `limit` items expired by `now`; how many went."""
        ...

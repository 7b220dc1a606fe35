"""The store repository of long-term memory and shared context.

Scoped to the unit of work's workspace like every repository. Every read
takes `now` and leaves out items that have expired by then, so an expired
item is never answered, however long its row lingers.

An item may also have one vector (an embedding of its text, with the name
of the model that made it); it goes when the item goes. Vector search is
by cosine over the scope's vectors of one model only: vectors of another
model, or of another length, are never compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..domain import MemoryItem, MemoryKind

__all__ = ["MAX_VECTOR_SCAN", "MemoryQuery", "MemoryRepo"]

# Vector search compares the query with at most this many of the newest live
# items in scope, so one search stays a bounded amount of work (a quarter of
# a second at 1536 dimensions in pure Python); older items are still found
# by their words.
MAX_VECTOR_SCAN = 5_000


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

    async def put_vector(self, item_id: str, *, model: str, vector: Sequence[float]) -> None:
        """Keep `vector` (made by `model`) for the item, replacing any vector it
        had; it is stored at unit length. Raises NotFound for an item not in
        this workspace (expired or not), ValueError for a vector without a
        direction (empty, zero or not finite)."""
        ...

    async def nearest(
        self,
        query: MemoryQuery,
        *,
        model: str,
        vector: Sequence[float],
        now: datetime,
        min_similarity: float = 0.0,
    ) -> list[MemoryItem]:
        """Live items with a vector of `model` and the same length as `vector`,
        most similar first (cosine; ties newest first), at most `query.limit`,
        only those more similar than `min_similarity`. The query's agent, kind and
        runs filter as in `search`; its text is not looked at. Only the
        MAX_VECTOR_SCAN newest items in scope are compared."""
        ...

    async def without_vector(self, model: str, *, now: datetime, limit: int) -> list[MemoryItem]:
        """Live items with no vector of `model` (none, or another model's),
        newest first, at most `limit`: what a reindex embeds next."""
        ...

    async def delete_expired(self, now: datetime, *, limit: int = 500) -> int:
        """Remove up to `limit` items expired by `now`; how many went."""
        ...

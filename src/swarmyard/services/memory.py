"""Long-term memory and shared context as people reach it (the API).

Agents reach the same items through the memory tools; this is the view
and the hand of the people running the workspace: search what the agents
know, add an item for an agent or for everyone, remove one that is wrong,
give existing items vectors once embeddings are turned on. Searching and
saving go through `MemoryIndex`, as the tools' do.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..domain import MemoryItem, MemoryKind, NotFound, Problem, ValidationFailed
from ..domain.memory import memory_problems, new_memory
from ..ports import MemoryQuery
from .deps import Deps
from .memory_index import MemoryIndex, Reindexed

__all__ = ["MAX_REINDEX", "MAX_SEARCH", "MemoryService"]

MAX_SEARCH = 100
MAX_REINDEX = 5000


def _kind(kind: str | None) -> MemoryKind | None:
    if not kind:
        return None
    try:
        return MemoryKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in MemoryKind)
        raise ValidationFailed(
            "memory query", [Problem("kind", f"{kind!r} is not one of: {known}")]
        ) from None


class MemoryService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._index = MemoryIndex(deps)

    async def search(
        self,
        workspace_id: str,
        *,
        text: str = "",
        agent_id: str | None = None,
        kind: str | None = None,
        limit: int = 20,
    ) -> list[MemoryItem]:
        """Best matches first (newest first without words). With `agent_id`,
        what that agent would find: its own items and the shared ones."""
        query = MemoryQuery(text=text, agent_id=agent_id or None, kind=_kind(kind), limit=limit)
        return await self._index.search(workspace_id, query)

    async def save(
        self,
        workspace_id: str,
        *,
        text: str,
        kind: str,
        tags: Sequence[object],
        ttl_days: float | None,
        agent_id: str | None,
        by: str,
    ) -> MemoryItem:
        """Keep an item for one agent, or (without `agent_id`) for every agent
        of the workspace. Every problem is named at once; nothing is stored."""
        now = self._d.clock.now()
        problems = memory_problems(text, kind, tags, ttl_days)
        if agent_id is not None:
            async with self._d.store.unit_of_work(workspace_id) as uow:
                try:
                    await uow.agents.get(agent_id)
                except NotFound:
                    problems.append(Problem("agent_id", f"no agent {agent_id!r} is installed"))
        if problems:
            raise ValidationFailed("memory", problems)
        item = new_memory(
            item_id=self._d.ids.new("mem"),
            workspace_id=workspace_id,
            now=now,
            text=text,
            kind=kind,
            tags=tags,
            ttl_days=ttl_days,
            agent_id=agent_id,
            source=by,
        )
        # Embedded (when configured) before the transaction that stores it.
        await self._index.keep(workspace_id, item)
        return item

    async def delete(self, workspace_id: str, item_id: str) -> None:
        """Raises NotFound (also for another workspace's item)."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.memory.delete(item_id)
            await uow.commit()

    async def reindex(self, workspace_id: str, *, limit: int = 500) -> Reindexed:
        """Give items without a vector of the configured embedder one, newest
        first. Refused when embeddings are off."""
        if not 1 <= limit <= MAX_REINDEX:
            raise ValidationFailed(
                "memory reindex", [Problem("limit", f"must be from 1 to {MAX_REINDEX}")]
            )
        return await self._index.reindex(workspace_id, limit=limit)

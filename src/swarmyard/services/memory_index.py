"""Saving and searching long-term memory, with embeddings when configured.

Every path that keeps or finds memory goes through here (the memory tools,
the API's memory service, recorded decisions), so they agree on one rule:
without an embedder this is full-text search exactly as the store answers
it. With one:

- saving embeds the item's text *before* its transaction (a network call
  never holds a transaction open) and stores the vector beside the item;
- searching asks the full-text index and the vectors (top-k by cosine over
  the scope's vectors of the configured model) and merges the two
  best-first lists by reciprocal-rank fusion (`domain.vectors`).

An embedder that fails never fails its caller — a run must not stop
because an embedding server is down: a search answers by words alone, an
item is saved without a vector (`reindex` fills it in later); both log a
warning saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from ..domain import Conflict, MemoryItem, NotFound
from ..domain.memory import MAX_MEMORY_TEXT, search_terms
from ..domain.vectors import fuse_ranked, unit_vector
from ..ports import Embedder, EmbeddingFailed, MemoryQuery
from .deps import Deps

__all__ = ["REINDEX_BATCH", "MemoryIndex", "Reindexed", "embedding_text"]

log = structlog.get_logger("swarmyard.memory")

# Each list offers at least this many candidates to the fusion, so an item
# just outside one list's top places can still win on the other list.
_CANDIDATES = 20
# Texts sent to the embedder in one request when reindexing.
REINDEX_BATCH = 32


def embedding_text(item: MemoryItem) -> str:
    """What is embedded of an item: its text and tags, as full text indexes them."""
    if not item.tags:
        return item.text
    return f"{item.text}\n{', '.join(item.tags)}"


@dataclass(frozen=True, slots=True)
class Reindexed:
    """What one reindex did: items given a vector, items left without one
    (the embedder refused them, or they went meanwhile), and why it stopped."""

    indexed: int
    failed: int
    error: str | None = None


class MemoryIndex:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    async def search(self, workspace_id: str, query: MemoryQuery) -> list[MemoryItem]:
        """Best matches first; without words (or without an embedder) what the
        store's full-text search answers."""
        embedder = self._d.embedder
        if embedder is None or not search_terms(query.text):
            return await self._by_words(workspace_id, query)
        try:
            vector = await embedder.embed_query(query.text[:MAX_MEMORY_TEXT])
            _check([vector], 1)
        except EmbeddingFailed as exc:
            log.warning("memory search by words only", model=embedder.name, error=str(exc))
            return await self._by_words(workspace_id, query)
        pool = replace(query, limit=max(query.limit, _CANDIDATES))
        now = self._d.clock.now()
        async with self._d.store.unit_of_work(workspace_id) as uow:
            by_words = await uow.memory.search(pool, now=now)
            by_vector = await uow.memory.nearest(
                pool,
                model=embedder.name,
                vector=vector,
                now=now,
                min_similarity=embedder.min_similarity,
            )
        found = {i.id: i for i in (*by_words, *by_vector)}
        fused = fuse_ranked(
            [[i.id for i in by_words], [i.id for i in by_vector]], limit=query.limit
        )
        return [found[i] for i in fused]

    async def keep(self, workspace_id: str, item: MemoryItem) -> None:
        """Store a new item (and its vector), sweeping the workspace's expired
        items in the same transaction. Raises Conflict if its id is taken."""
        embedder = self._d.embedder
        vector = None if embedder is None else await self._document_vector(embedder, item)
        async with self._d.store.unit_of_work(workspace_id) as uow:
            # Expired items are never answered; writing is when they are swept.
            await uow.memory.delete_expired(self._d.clock.now())
            await uow.memory.add(item)
            if embedder is not None and vector is not None:
                await uow.memory.put_vector(item.id, model=embedder.name, vector=vector)
            await uow.commit()

    async def reindex(self, workspace_id: str, *, limit: int = 500) -> Reindexed:
        """Give up to `limit` live items without a vector of the configured
        model one, newest first: items saved before embeddings were turned
        on, while the embedder was down, or under another model. Stops at the
        first batch the embedder refuses; what is left counts as `failed`.
        Raises Conflict when embeddings are off."""
        embedder = self._d.embedder
        if embedder is None:
            raise Conflict(
                "memory embeddings are off: set SWARMYARD_MEMORY_EMBEDDINGS "
                "(hashing or openai:<model>) and restart"
            )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            todo = await uow.memory.without_vector(
                embedder.name, now=self._d.clock.now(), limit=limit
            )
        indexed = 0
        for start in range(0, len(todo), REINDEX_BATCH):
            batch = todo[start : start + REINDEX_BATCH]
            try:
                vectors = await embedder.embed_documents([embedding_text(i) for i in batch])
                _check(vectors, len(batch))
            except EmbeddingFailed as exc:
                log.warning("memory reindex stopped", model=embedder.name, error=str(exc))
                return Reindexed(indexed, len(todo) - indexed, str(exc))
            indexed += await self._store_vectors(workspace_id, embedder.name, batch, vectors)
        return Reindexed(indexed, len(todo) - indexed)

    # ------------------------------------------------------------------ parts

    async def _by_words(self, workspace_id: str, query: MemoryQuery) -> list[MemoryItem]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.memory.search(query, now=self._d.clock.now())

    async def _document_vector(self, embedder: Embedder, item: MemoryItem) -> list[float] | None:
        try:
            vectors = await embedder.embed_documents([embedding_text(item)])
            _check(vectors, 1)
        except EmbeddingFailed as exc:
            log.warning(
                "memory item saved without a vector",
                item=item.id,
                model=embedder.name,
                error=str(exc),
            )
            return None
        return vectors[0]

    async def _store_vectors(
        self,
        workspace_id: str,
        model: str,
        batch: Sequence[MemoryItem],
        vectors: Sequence[Sequence[float]],
    ) -> int:
        stored = 0
        async with self._d.store.unit_of_work(workspace_id) as uow:
            for item, vector in zip(batch, vectors, strict=True):
                try:
                    await uow.memory.put_vector(item.id, model=model, vector=vector)
                except NotFound:  # deleted since it was listed
                    continue
                stored += 1
            await uow.commit()
        return stored


def _check(vectors: Sequence[Sequence[float]], expected: int) -> None:
    """Raises EmbeddingFailed unless there is one vector per text, each with a
    direction (stores refuse the others)."""
    if len(vectors) != expected:
        raise EmbeddingFailed(f"the embedder answered {len(vectors)} vectors for {expected} texts")
    for vector in vectors:
        try:
            unit_vector(vector)
        except ValueError as exc:
            raise EmbeddingFailed(f"the embedder answered an unusable vector: {exc}") from None

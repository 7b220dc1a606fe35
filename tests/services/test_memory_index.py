"""Memory search and saving with and without an embedder (MemoryIndex and
MemoryService on the in-memory store).

Without an embedder: exactly the store's full-text search. With the offline
hashing embedder: a query with no word in common finds an item whose words
share their letter sequences ("deploying" finds "deployment"), items matching
both ways come first, and the agent view holds. An embedder that fails never
fails the caller: search answers by words, a save keeps the item without a
vector, both with a warning, and reindex fills the vectors in later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.embeddings import HashingEmbedder
from swarmyard.adapters.embeddings.openai_compat import OpenAICompatibleEmbedder
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import Conflict, FakeClock, SequentialIds, ValidationFailed, Workspace
from swarmyard.domain.memory import new_memory
from swarmyard.ports import Embedder, EmbeddingFailed, MemoryQuery
from swarmyard.services.deps import Deps
from swarmyard.services.memory import MemoryService
from swarmyard.services.memory_index import MemoryIndex
from swarmyard.testing.embeddings import FakeEmbeddingsServer

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
WS = "ws"
DEPLOYMENT = "Deployment of the billing service happens after the review"
LEDGER = "The ledger is exported nightly as CSV"


class FlakyEmbedder:
    """The hashing embedder, unless `down`: then every call fails."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.down = False
        self.calls = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimensions(self) -> int:
        return self.inner.dimensions

    @property
    def min_similarity(self) -> float:
        return self.inner.min_similarity

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self._call()
        return await self.inner.embed_documents(texts)

    async def embed_query(self, text: str) -> list[float]:
        self._call()
        return await self.inner.embed_query(text)

    async def aclose(self) -> None:
        return None

    def _call(self) -> None:
        self.calls += 1
        if self.down:
            raise EmbeddingFailed("connection refused")


async def deps_with(embedder: Embedder | None, store: MemoryStore | None = None) -> Deps:
    if store is None:
        store = MemoryStore()
        await store.add_workspace(Workspace(WS, "W", T0))
    clock = FakeClock(T0)
    return Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds(), embedder=embedder)


async def save(service: MemoryService, text: str, *, agent_id: str | None = None) -> str:
    item = await service.save(
        WS, text=text, kind="fact", tags=[], ttl_days=None, agent_id=agent_id, by="user:u1"
    )
    return item.id


async def found(service: MemoryService, text: str, **options: object) -> list[str]:
    return [i.text for i in await service.search(WS, text=text, **options)]  # type: ignore[arg-type]


async def test_without_an_embedder_search_is_the_store_s_full_text_search() -> None:
    deps = await deps_with(None)
    service = MemoryService(deps)
    await save(service, DEPLOYMENT)
    await save(service, LEDGER)
    assert await found(service, "deploying") == []  # no word in common
    assert await found(service, "ledger export") == [LEDGER]
    async with deps.store.unit_of_work(WS) as uow:
        assert await uow.memory.without_vector("hashing-v1-512", now=T0, limit=10) != []
    with pytest.raises(Conflict, match="SWARMYARD_MEMORY_EMBEDDINGS"):
        await service.reindex(WS)


async def test_hashing_finds_a_variant_of_a_word_no_full_text_match_finds() -> None:
    service = MemoryService(await deps_with(HashingEmbedder()))
    await save(service, DEPLOYMENT)
    await save(service, LEDGER)
    await save(service, "The board has eight columns")
    # "deploying" shares no word with any item; its n-grams are deployment's.
    assert await found(service, "deploying") == [DEPLOYMENT]
    assert await found(service, "exporting ledgers") == [LEDGER]
    # Nothing alike at all: nothing found, rather than the nearest noise.
    assert await found(service, "automobile") == []


async def test_hybrid_ranks_items_found_both_ways_first() -> None:
    service = MemoryService(await deps_with(HashingEmbedder()))
    await save(service, "Deployments are frozen in December")
    await save(service, "The review checklist has five points")
    await save(service, "Review deployments before Friday")
    # Words find the last two ("review"); vectors the deployment ones too
    # ("deployment" is no word of theirs, "deployments" is).
    texts = await found(service, "review deployment")
    assert texts[0] == "Review deployments before Friday"
    assert set(texts) == {
        "Deployments are frozen in December",
        "The review checklist has five points",
        "Review deployments before Friday",
    }
    assert await found(service, "review deployment", limit=1) == [texts[0]]


async def test_vector_search_keeps_the_agent_view() -> None:
    deps = await deps_with(HashingEmbedder())
    index = MemoryIndex(deps)
    for agent, text in (("a1", "deployment checklist"), ("a2", "deployment runbook")):
        item = new_memory(
            item_id=deps.ids.new("mem"),
            workspace_id=WS,
            now=T0,
            text=text,
            kind="note",
            tags=[],
            ttl_days=None,
            agent_id=agent,
        )
        await index.keep(WS, item)
    mine = await index.search(WS, MemoryQuery(text="deploying", agent_id="a1"))
    assert [i.text for i in mine] == ["deployment checklist"]


async def test_an_embedder_down_never_fails_a_search_or_a_save() -> None:
    embedder = FlakyEmbedder()
    deps = await deps_with(embedder)
    service = MemoryService(deps)
    await save(service, DEPLOYMENT)
    embedder.down = True
    with capture_logs() as logs:
        assert await found(service, "deploying") == []  # words only: no match
        assert await found(service, "billing") == [DEPLOYMENT]
        saved = await save(service, "Deploying needs a green build")
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == [
        "memory search by words only",
        "memory search by words only",
        "memory item saved without a vector",
    ]
    assert all(e["error"] == "connection refused" for e in warnings)
    assert warnings[2]["item"] == saved

    embedder.down = False
    # Saved without a vector: found by its words only, until reindexed.
    assert await found(service, "deployment") == [DEPLOYMENT]
    done = await service.reindex(WS)
    assert (done.indexed, done.failed, done.error) == (1, 0, None)
    assert set(await found(service, "deployment")) == {DEPLOYMENT, "Deploying needs a green build"}
    assert (await service.reindex(WS)).indexed == 0


async def test_reindex_gives_older_items_vectors_and_stops_when_refused() -> None:
    store = MemoryStore()
    await store.add_workspace(Workspace(WS, "W", T0))
    before = MemoryService(await deps_with(None, store))
    for n in range(3):
        await save(before, f"Deployment number {n}")
    embedder = FlakyEmbedder()
    service = MemoryService(await deps_with(embedder, store))
    assert await found(service, "deploying") == []
    embedder.down = True
    with capture_logs():
        refused = await service.reindex(WS)
    assert (refused.indexed, refused.failed, refused.error) == (0, 3, "connection refused")
    embedder.down = False
    assert (await service.reindex(WS, limit=2)).indexed == 2
    assert (await service.reindex(WS)).indexed == 1
    assert len(await found(service, "deploying")) == 3
    with pytest.raises(ValidationFailed, match="limit"):
        await service.reindex(WS, limit=0)


async def test_vectors_of_another_model_are_not_compared() -> None:
    store = MemoryStore()
    await store.add_workspace(Workspace(WS, "W", T0))
    small = MemoryService(await deps_with(HashingEmbedder(dimensions=64), store))
    await save(small, DEPLOYMENT)
    large = MemoryService(await deps_with(HashingEmbedder(), store))
    assert await found(large, "deploying") == []  # its vector is the other model's
    assert (await large.reindex(WS)).indexed == 1
    assert await found(large, "deploying") == [DEPLOYMENT]


async def test_search_and_save_through_an_openai_compatible_server() -> None:
    async with FakeEmbeddingsServer(vectors=HashingEmbedder().vector) as server:
        embedder = OpenAICompatibleEmbedder(model="nomic-embed-text", base_url=server.base_url)
        try:
            service = MemoryService(await deps_with(embedder))
            await save(service, DEPLOYMENT)
            await save(service, LEDGER)
            assert await found(service, "deploying") == [DEPLOYMENT]
            server.fail(500, "the model crashed")
            with capture_logs() as logs:
                assert await found(service, "ledger") == [LEDGER]
        finally:
            await embedder.aclose()
    assert [e["event"] for e in logs] == ["memory search by words only"]
    assert [r.body["input"] for r in server.requests] == [
        [DEPLOYMENT],
        [LEDGER],
        ["deploying"],
        ["ledger"],
    ]

"""Conformance of the Embedder port: the offline hashing embedder and the
OpenAI-compatible one (against a loopback server speaking /v1/embeddings).

One vector per text, in order, all of one length that `dimensions` then
reports; a query vector of the same length; nothing asked, nothing sent;
the same text, the same vector.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from swarmyard.adapters.embeddings import HashingEmbedder
from swarmyard.adapters.embeddings.openai_compat import OpenAICompatibleEmbedder
from swarmyard.ports import Embedder
from swarmyard.testing.embeddings import FakeEmbeddingsServer


@pytest.fixture(params=["hashing", "openai-compatible"])
async def embedder(request: pytest.FixtureRequest) -> AsyncIterator[Embedder]:
    if request.param == "hashing":
        yield HashingEmbedder()
        return
    async with FakeEmbeddingsServer() as server:
        instance = OpenAICompatibleEmbedder(model="nomic-embed-text", base_url=server.base_url)
        try:
            yield instance
        finally:
            await instance.aclose()


async def test_one_vector_per_text_all_of_one_length(embedder: Embedder) -> None:
    texts = ["Deployments happen on Fridays", "The ledger is exported nightly", "CSV"]
    vectors = await embedder.embed_documents(texts)
    assert len(vectors) == 3
    lengths = {len(v) for v in vectors}
    assert len(lengths) == 1
    assert embedder.dimensions == lengths.pop()
    query = await embedder.embed_query("when do deployments happen")
    assert len(query) == embedder.dimensions
    assert embedder.name
    assert -1.0 <= embedder.min_similarity < 1.0


async def test_the_same_text_gives_the_same_vector(embedder: Embedder) -> None:
    first, second, other = await embedder.embed_documents(["ledger export", "ledger export", "x y"])
    assert first == second
    assert first != other
    assert await embedder.embed_documents([]) == []

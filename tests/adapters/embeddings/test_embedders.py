"""The embedder adapters: the hashing embedder's lexical similarity and its
limits, and the OpenAI-compatible embedder's requests, answers and failures
against a loopback server speaking the real /v1/embeddings wire format."""

from __future__ import annotations

import socket

import pytest

from swarmyard.adapters.embeddings import HashingEmbedder, create_embedder
from swarmyard.adapters.embeddings.openai_compat import OpenAICompatibleEmbedder
from swarmyard.domain.vectors import dot
from swarmyard.ports import EmbeddingFailed
from swarmyard.testing.embeddings import FakeEmbeddingsServer

KEY = "sk-test-0123456789abcdef"


def similarity(a: str, b: str) -> float:
    embedder = HashingEmbedder()
    return dot(embedder.vector(a), embedder.vector(b))


def test_hashing_vectors_are_unit_length_and_stable() -> None:
    embedder = HashingEmbedder()
    vector = embedder.vector("Deployment of the billing service")
    assert len(vector) == embedder.dimensions == 512
    assert dot(vector, vector) == pytest.approx(1.0)
    # BLAKE2b, not hash(): the same vector in every process and on every machine.
    h = 0.447214
    assert HashingEmbedder(dimensions=16).vector("ledger") == pytest.approx(
        [h, h, 0, 0, 0, 0, h, 0, 0, 0, 0, h, 0, 0, -h, 0], abs=1e-6
    )
    assert embedder.name == "hashing-v1-512"
    assert HashingEmbedder(dimensions=64).name != embedder.name


def test_hashing_finds_shared_letter_sequences_not_meaning() -> None:
    floor = HashingEmbedder().min_similarity
    # Inflections and derivations share most of their n-grams.
    assert similarity("deploying", "Deployment of the billing service") > floor
    assert similarity("namespace", "Kubernetes namespaces are per team") > floor
    # Unrelated texts, and synonyms with no letters in common, stay below the floor.
    assert similarity("deploying", "The ledger is exported nightly") < floor
    assert similarity("automobile", "The car is parked outside") < floor


def test_hashing_embeds_any_text_but_a_blank_one() -> None:
    embedder = HashingEmbedder()
    # Stopwords only: the stopwords; no words at all: the characters.
    assert dot(embedder.vector("the"), embedder.vector("The")) == pytest.approx(1.0)
    assert dot(embedder.vector("?!"), embedder.vector("?!")) == pytest.approx(1.0)
    assert dot(embedder.vector("?!"), embedder.vector("ledger")) < embedder.min_similarity
    with pytest.raises(EmbeddingFailed, match="blank"):
        embedder.vector(" \n ")
    with pytest.raises(ValueError, match="dimensions"):
        HashingEmbedder(dimensions=4)


def test_create_embedder_builds_what_the_setting_names() -> None:
    assert isinstance(create_embedder("hashing"), HashingEmbedder)
    built = create_embedder("openai", model="text-embedding-3-small")
    assert isinstance(built, OpenAICompatibleEmbedder)
    assert built.name == "openai:text-embedding-3-small"


async def test_openai_compatible_sends_the_wire_request_and_reads_the_answer() -> None:
    async with FakeEmbeddingsServer() as server:
        embedder = OpenAICompatibleEmbedder(
            model="text-embedding-3-small", base_url=server.base_url, api_key=KEY
        )
        try:
            assert embedder.dimensions is None  # known from the first answer
            vectors = await embedder.embed_documents(["ledger export", "deploys"])
            query = await embedder.embed_query("ledger")
        finally:
            await embedder.aclose()
    assert embedder.dimensions == 64
    # The SDK asks for base64-packed float32 and unpacks it: exact float32 values back.
    assert vectors[0] == pytest.approx(server.vectors("ledger export"), abs=1e-7)
    assert query == pytest.approx(server.vectors("ledger"), abs=1e-7)
    first = server.requests[0]
    assert first.path == "/v1/embeddings"
    assert first.api_key == KEY
    assert first.body["model"] == "text-embedding-3-small"
    assert first.body["input"] == ["ledger export", "deploys"]
    assert "dimensions" not in first.body


async def test_openai_compatible_asks_for_dimensions_when_given() -> None:
    async with FakeEmbeddingsServer() as server:
        embedder = OpenAICompatibleEmbedder(
            model="text-embedding-3-small", base_url=server.base_url, dimensions=64
        )
        try:
            await embedder.embed_query("ledger")
        finally:
            await embedder.aclose()
    assert server.requests[0].body["dimensions"] == 64
    assert server.requests[0].api_key == "no-key"  # keyless servers get a placeholder
    assert embedder.name == "openai:text-embedding-3-small@64"


async def test_openai_compatible_errors_name_the_cause_never_the_key() -> None:
    async with FakeEmbeddingsServer() as server:
        embedder = OpenAICompatibleEmbedder(model="m", base_url=server.base_url, api_key=KEY)
        try:
            server.fail(401, f"Incorrect API key provided: {KEY}")
            with pytest.raises(EmbeddingFailed) as refused:
                await embedder.embed_query("ledger")
            server.fail(503, "model is loading")
            with pytest.raises(EmbeddingFailed, match=r"503|loading"):
                await embedder.embed_documents(["ledger"])
        finally:
            await embedder.aclose()
    message = str(refused.value)
    assert KEY not in message
    assert "openai:m at http://127.0.0.1" in message
    assert "401" in message or "Incorrect API key" in message


async def test_openai_compatible_refuses_answers_of_the_wrong_shape() -> None:
    lengths = iter([8, 8, 4])

    def vectors(text: str) -> list[float]:
        return [1.0] * next(lengths)

    async with FakeEmbeddingsServer(vectors=vectors) as server:
        embedder = OpenAICompatibleEmbedder(model="m", base_url=server.base_url)
        try:
            await embedder.embed_query("a")
            with pytest.raises(EmbeddingFailed, match="lengths"):
                await embedder.embed_documents(["b", "c"])
        finally:
            await embedder.aclose()

    async with FakeEmbeddingsServer(vectors=lambda text: [1.0] * 8) as server:
        embedder = OpenAICompatibleEmbedder(model="m", base_url=server.base_url, dimensions=4)
        try:
            with pytest.raises(EmbeddingFailed, match="8 dimensions, not 4"):
                await embedder.embed_query("a")
        finally:
            await embedder.aclose()


async def test_openai_compatible_server_down_is_an_embedding_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more: the connection is refused.
    embedder = OpenAICompatibleEmbedder(model="m", base_url=f"http://127.0.0.1:{port}/v1")
    try:
        with pytest.raises(EmbeddingFailed, match=f"127.0.0.1:{port}"):
            await embedder.embed_query("ledger")
    finally:
        await embedder.aclose()

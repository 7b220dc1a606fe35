"""SWARMYARD_MEMORY_EMBEDDINGS and its endpoint: accepted forms, refusals
that name the variable, and what the process wires from them."""

from __future__ import annotations

import pytest

from swarmyard.adapters.embeddings import HashingEmbedder
from swarmyard.adapters.embeddings.openai_compat import OpenAICompatibleEmbedder
from swarmyard.config import Settings
from swarmyard.runtime.wiring import memory_embedder


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EMBEDDINGS", "EMBEDDINGS_BASE_URL", "EMBEDDINGS_API_KEY"):
        monkeypatch.delenv(f"SWARMYARD_MEMORY_{name}", raising=False)
    monkeypatch.delenv("SWARMYARD_OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("SWARMYARD_OPENAI_API_KEY", raising=False)


def test_the_accepted_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().memory_embeddings_choice is None
    assert memory_embedder(Settings()) is None
    monkeypatch.setenv("SWARMYARD_MEMORY_EMBEDDINGS", "hashing")
    assert Settings().memory_embeddings_choice == ("hashing", "")
    assert isinstance(memory_embedder(Settings()), HashingEmbedder)
    monkeypatch.setenv("SWARMYARD_MEMORY_EMBEDDINGS", "openai:nomic-embed-text:latest")
    assert Settings().memory_embeddings_choice == ("openai", "nomic-embed-text:latest")


@pytest.mark.parametrize("value", ["bogus", "openai:", "openai:two words", "hashing:64"])
def test_an_unknown_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SWARMYARD_MEMORY_EMBEDDINGS", value)
    with pytest.raises(ValueError, match=r"SWARMYARD_MEMORY_EMBEDDINGS=.*'openai:<model>'"):
        Settings()


def test_a_base_url_must_be_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMYARD_MEMORY_EMBEDDINGS_BASE_URL", "localhost:11434")
    with pytest.raises(ValueError, match="SWARMYARD_MEMORY_EMBEDDINGS_BASE_URL"):
        Settings()


async def test_the_chat_key_goes_only_to_the_chat_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMYARD_MEMORY_EMBEDDINGS", "openai:nomic-embed-text")
    monkeypatch.setenv("SWARMYARD_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("SWARMYARD_OPENAI_API_KEY", "chat-key")
    assert Settings().memory_embeddings_endpoint == ("http://127.0.0.1:11434/v1", "chat-key")
    monkeypatch.setenv("SWARMYARD_MEMORY_EMBEDDINGS_BASE_URL", "http://127.0.0.1:8000/v1")
    assert Settings().memory_embeddings_endpoint == ("http://127.0.0.1:8000/v1", "")
    monkeypatch.setenv("SWARMYARD_MEMORY_EMBEDDINGS_API_KEY", "embed-key")
    assert Settings().memory_embeddings_endpoint == ("http://127.0.0.1:8000/v1", "embed-key")
    built = memory_embedder(Settings())
    assert isinstance(built, OpenAICompatibleEmbedder)
    assert built.name == "openai:nomic-embed-text"
    await built.aclose()

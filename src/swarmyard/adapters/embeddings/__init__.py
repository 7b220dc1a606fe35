"""Embedder adapters (`ports.embeddings`), for memory search by similarity.

- `HashingEmbedder`: offline, deterministic, lexical (letter sequences, not
  meaning); also the embedder of tests.
- `OpenAICompatibleEmbedder`: any ``/v1/embeddings`` server (OpenAI,
  Ollama, vLLM, llama.cpp) through pydantic-ai, which it imports only when
  built.

`create_embedder` builds the one the setting (``SWARMYARD_MEMORY_EMBEDDINGS``,
validated in `config.py`) names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from .hashing import DEFAULT_DIMENSIONS, HashingEmbedder

if TYPE_CHECKING:
    from ...ports import Embedder

__all__ = [
    "DEFAULT_DIMENSIONS",
    "HashingEmbedder",
    "create_embedder",
]


def create_embedder(
    kind: Literal["hashing", "openai"], *, model: str = "", base_url: str = "", api_key: str = ""
) -> Embedder:
    """The embedder of `kind` (config.Settings.memory_embeddings_choice)."""
    if kind == "hashing":
        return HashingEmbedder()
    from .openai_compat import OpenAICompatibleEmbedder  # noqa: PLC0415

    return OpenAICompatibleEmbedder(model=model, base_url=base_url, api_key=api_key)

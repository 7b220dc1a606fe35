"""The Embedder port: text in, vectors out, for memory search by similarity.

Optional: without an embedder memory is searched by words only. Vectors of
two embedders are never compared — `name` identifies the vector space, and
stores keep it beside every vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["Embedder", "EmbeddingFailed"]


class EmbeddingFailed(Exception):
    """The embedder gave no usable vectors (server down, refused, bad answer).

    Callers carry on without vectors: a memory search falls back to words,
    a saved item is kept without a vector. The message names the cause and
    never a credential."""


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """The model's identity, e.g. ``openai:text-embedding-3-small``: vectors
        are only compared with vectors of the same name."""
        ...

    @property
    def dimensions(self) -> int | None:
        """The length of every vector; None until the first answer says it."""
        ...

    @property
    def min_similarity(self) -> float:
        """The cosine below which a match says nothing for this model (its
        noise floor); vector hits below it are left out."""
        ...

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order, for texts to be stored. Raises
        EmbeddingFailed."""
        ...

    async def embed_query(self, text: str) -> list[float]:
        """The vector of a search query (some models embed queries apart
        from documents). Raises EmbeddingFailed."""
        ...

    async def aclose(self) -> None:
        """Release connections (the process is stopping)."""
        ...

"""Embeddings from any server speaking OpenAI's ``POST /v1/embeddings``.

OpenAI itself, Ollama, vLLM, the llama.cpp server, LM Studio and most
hosted gateways answer the same request, so one adapter over pydantic-ai's
embedding layer (`OpenAIEmbeddingModel`) covers them. pydantic-ai and the
OpenAI SDK are imported when the adapter is built, not when this package
is: a process without embeddings never loads them.

Every failure — connection refused, timeout, an HTTP error, an answer of
the wrong shape — is raised as `EmbeddingFailed` with the key hidden, so a
caller needs to handle one exception only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...ports import EmbeddingFailed
from ..llm._redact import Redactor, safe_url

if TYPE_CHECKING:
    from pydantic_ai.embeddings import Embedder as PydanticEmbedder

__all__ = ["OPENAI_API", "OpenAICompatibleEmbedder"]

OPENAI_API = "https://api.openai.com/v1"


class OpenAICompatibleEmbedder:
    """One embedding model of one OpenAI-compatible endpoint.

    `base_url` is the API root (``http://localhost:11434/v1`` for Ollama);
    `api_key` may be empty for servers that need none. `dimensions` asks
    models that can shorten their vectors (OpenAI's text-embedding-3) for
    that many; otherwise the first answer tells. Holds a connection pool,
    released by `aclose()`.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str = OPENAI_API,
        api_key: str = "",
        dimensions: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not model.strip():
            raise ValueError("an embedding model needs a name")
        if dimensions is not None and dimensions < 1:
            raise ValueError(f"dimensions must be positive, not {dimensions}")
        # Imported here: only a process configured for embeddings loads the SDK.
        from pydantic_ai.embeddings import Embedder as PydanticEmbedder  # noqa: PLC0415
        from pydantic_ai.embeddings import EmbeddingSettings  # noqa: PLC0415
        from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel  # noqa: PLC0415
        from pydantic_ai.providers.openai import OpenAIProvider  # noqa: PLC0415

        from ..llm.openai_compat import openai_sdk_client  # noqa: PLC0415

        self._model = model.strip()
        self._url = (base_url or OPENAI_API).strip()
        self._wanted = dimensions
        self._dimensions = dimensions
        self._redactor = Redactor(api_key)
        self._client = openai_sdk_client(base_url=self._url, api_key=api_key, timeout=timeout)
        embedding_model = OpenAIEmbeddingModel(
            self._model, provider=OpenAIProvider(openai_client=self._client)
        )
        settings = EmbeddingSettings(dimensions=dimensions) if dimensions else None
        self._embedder: PydanticEmbedder = PydanticEmbedder(embedding_model, settings=settings)

    @property
    def name(self) -> str:
        suffix = f"@{self._wanted}" if self._wanted else ""
        return f"openai:{self._model}{suffix}"

    @property
    def dimensions(self) -> int | None:
        return self._dimensions

    @property
    def min_similarity(self) -> float:
        # Learned embeddings have no common noise floor (unrelated texts score
        # 0.1 to 0.3 depending on the model): keep every positive match.
        return 0.0

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return await self._embed(list(texts), query=False)

    async def embed_query(self, text: str) -> list[float]:
        return (await self._embed([text], query=True))[0]

    async def aclose(self) -> None:
        await self._client.close()

    async def _embed(self, texts: list[str], *, query: bool) -> list[list[float]]:
        try:
            if query:
                result = await self._embedder.embed_query(texts)
            else:
                result = await self._embedder.embed_documents(texts)
        except Exception as exc:  # every failure of the server or the client, named
            raise EmbeddingFailed(self._describe(exc)) from None
        vectors = [[float(v) for v in e] for e in result.embeddings]
        self._check(vectors, len(texts))
        return vectors

    def _check(self, vectors: list[list[float]], expected: int) -> None:
        where = f"{self.name} at {safe_url(self._url)}"
        if len(vectors) != expected:
            raise EmbeddingFailed(f"{where} answered {len(vectors)} vectors for {expected} texts")
        lengths = {len(v) for v in vectors}
        if len(lengths) != 1 or 0 in lengths:
            raise EmbeddingFailed(f"{where} answered vectors of lengths {sorted(lengths)}")
        (length,) = lengths
        if self._dimensions is not None and length != self._dimensions:
            # Another model behind the same name: its vectors must not mix with ours.
            raise EmbeddingFailed(f"{where} answered {length} dimensions, not {self._dimensions}")
        if not all(math.isfinite(x) for v in vectors for x in v):
            raise EmbeddingFailed(f"{where} answered a value that is not a finite number")
        self._dimensions = length

    def _describe(self, exc: Exception) -> str:
        detail = self._redactor.redact(str(exc).strip() or type(exc).__name__)
        return f"{self.name} at {safe_url(self._url)} failed: {detail[:500]}"

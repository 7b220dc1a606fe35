"""A loopback server speaking OpenAI's ``POST /v1/embeddings``.

Tests of the OpenAI-compatible embedder need a server whose vectors are
known and whose failures can be provoked: the official SDK talks to this
one exactly as to api.openai.com, Ollama or vLLM — the same path, the same
JSON, base64-packed float32 vectors when the client asks for them (the SDK
does by default), the same ``{"error": {…}}`` bodies — so what works
against it exercises the real client code end to end::

    async with FakeEmbeddingsServer() as fake:
        fake.fail(503, "model loading")      # the next request is refused
        embedder = OpenAICompatibleEmbedder(model="m", base_url=fake.base_url)
        ...
        assert fake.requests[0].body["input"] == ["some text"]

Vectors come from `vectors` (by default the offline hashing embedder's, 64
dimensions), so equal texts get equal vectors and the test can compute them.
"""

from __future__ import annotations

import base64
import json
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from starlette.types import Receive, Scope, Send

from ..adapters.embeddings.hashing import HashingEmbedder
from . import _wire_openai
from ._outcomes import ErrorReply
from .loopback_asgi import LoopbackAsgi
from .providers import _read_body, _send_json

__all__ = ["EmbeddingsRequest", "FakeEmbeddingsServer"]


@dataclass(frozen=True, slots=True)
class EmbeddingsRequest:
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


class FakeEmbeddingsServer:
    """``/v1/embeddings`` on an ephemeral loopback port (an async context manager)."""

    def __init__(self, *, vectors: Callable[[str], list[float]] | None = None) -> None:
        self.vectors = vectors or HashingEmbedder(dimensions=64).vector
        self.requests: list[EmbeddingsRequest] = []
        self.port = 0
        self._failures: deque[tuple[int, str]] = deque()
        self._serving: LoopbackAsgi | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def fail(self, status: int, message: str, *, times: int = 1) -> None:
        """Answer the next `times` requests with this HTTP error."""
        self._failures.extend([(status, message)] * times)

    async def __aenter__(self) -> Self:
        self._serving = LoopbackAsgi(self._http, name="the fake embeddings server")
        self.port = await self._serving.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._serving is not None:
            await self._serving.stop()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await _read_body(receive)
        if scope["method"] != "POST" or not scope["path"].endswith("/embeddings"):
            await _send_error(send, 404, "no such endpoint")
            return
        try:
            body = json.loads(raw)
        except ValueError:
            await _send_error(send, 400, "the body is not JSON")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.requests.append(EmbeddingsRequest(scope["path"], headers, body))
        if self._failures:
            await _send_error(send, *self._failures.popleft())
            return
        await _send_json(send, 200, self._answer(body))

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        packed = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = self.vectors(str(text))
            embedding: Any = (
                base64.b64encode(array("f", vector).tobytes()).decode() if packed else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(len(str(t).split()) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": body.get("model", ""),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


async def _send_error(send: Send, status: int, message: str) -> None:
    """OpenAI's ``{"error": {…}}`` body, as the chat fake sends it."""
    body, headers = _wire_openai.error(ErrorReply(status, message), message)
    await _send_json(send, status, body, headers)

"""A `ModelClient` for a GGUF model that llama.cpp runs on this machine.

The model runs in a child server (`supervisor.LlamaServer`) that speaks the
chat-completions protocol, so calls go through the same OpenAI-compatible
adapter as any other such server: one wire mapping, one error mapping. What
this client adds is the server's life: each call first makes sure the
server is up (starting or restarting it), and the inner adapter is rebuilt
when a restarted server listens on another port.

llama.cpp's server reports no usage on a streamed answer; it sends one chunk
per generated token, so a stream's output tokens are counted from its
chunks (its prompt tokens stay unknown: 0). The model is free either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..openai_compat import OpenAICompatibleModel

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelResponse

    from ....ports import ModelCall

__all__ = ["LocalModel", "ServerHandle"]


class ServerHandle(Protocol):
    """What the client needs of the supervisor (`LlamaServer`)."""

    async def ensure_running(self) -> str: ...

    async def stop(self) -> None: ...


class LocalModel:
    """`ModelClient` over one local model file. `server` is the child's
    supervisor (built from `model_file` when not given). `aclose()` stops
    the server: the factory calls it when the platform stops."""

    offline = False

    def __init__(
        self,
        *,
        model: str,
        model_file: str | Path | None = None,
        provider: str = "local",
        timeout: float = 300.0,
        server: ServerHandle | None = None,
    ) -> None:
        self.provider = provider
        self.model_name = model
        self._timeout = timeout
        if server is None:
            if model_file is None:
                raise ValueError("a local model needs its model file or a server")
            from .supervisor import LlamaServer  # noqa: PLC0415

            server = LlamaServer(Path(model_file), alias=model, provider=provider)
        self.server = server
        self._inner: OpenAICompatibleModel | None = None

    async def request(self, call: ModelCall) -> ModelResponse:
        client = await self._client()
        return await client.request(call)

    async def stream(self, call: ModelCall) -> AsyncIterator[str | ModelResponse]:
        client = await self._client()
        chunks = 0
        async for item in client.stream(call):
            if isinstance(item, str):
                chunks += 1
                yield item
            else:
                yield _with_counted_output(item, chunks)

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()
        await self.server.stop()

    async def _client(self) -> OpenAICompatibleModel:
        url = await self.server.ensure_running()
        inner = self._inner
        if inner is None or inner.base_url != url:
            if inner is not None:
                await inner.aclose()
            inner = self._inner = OpenAICompatibleModel(
                base_url=url, model=self.model_name, provider=self.provider, timeout=self._timeout
            )
        return inner


def _with_counted_output(response: ModelResponse, chunks: int) -> ModelResponse:
    if response.usage.output_tokens or not chunks:
        return response
    usage = dataclasses.replace(response.usage, output_tokens=chunks)
    return dataclasses.replace(response, usage=usage)

"""The SDK's transports, wrapped for the gateway's needs.

* A stdio server that exits leaves the SDK's session waiting quietly: its
  read stream just ends. `watched` notices that end, so the session can
  say it is closed and the gateway restart the server on the next use.
* The streamable HTTP transport takes its HTTP client from the caller (to
  send the registered headers, and to connect only where the egress rules
  allow: `PinnedTransport`) but does not close it; `http_transport` owns it
  for the life of the connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import Any, Self

import anyio
import httpx2

from mcp.client._transport import TransportStreams
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._stream_protocols import ReadStream
from mcp.shared.message import SessionMessage

__all__ = ["http_transport", "watched"]

# The SDK's own defaults: a server may hold its event stream open for long.
_HTTP_READ_SECONDS = 300.0


class _WatchedRead:
    """A read stream that calls `on_end` once it has ended (end of stream or closed)."""

    def __init__(self, inner: ReadStream[SessionMessage | Exception], on_end: Callable[[], None]):
        self._inner = inner
        self._on_end = on_end

    @property
    def last_context(self) -> Any:
        # The dispatcher reads the sender's context from streams that carry one.
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._on_end()
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        await self.aclose()
        return None


@asynccontextmanager
async def watched(
    transport: AbstractAsyncContextManager[TransportStreams], on_end: Callable[[], None]
) -> AsyncIterator[TransportStreams]:
    async with transport as (read, write):
        yield _WatchedRead(read, on_end), write


@asynccontextmanager
async def http_transport(
    url: str,
    headers: Mapping[str, str],
    *,
    connect_timeout: float,
    transport: httpx2.AsyncBaseTransport,
) -> AsyncIterator[TransportStreams]:
    timeout = httpx2.Timeout(connect_timeout, read=max(connect_timeout, _HTTP_READ_SECONDS))
    # Redirects are followed by the SDK itself, and only within the endpoint's
    # origin; `transport` checks any other destination before connecting.
    client = httpx2.AsyncClient(
        headers=dict(headers), timeout=timeout, transport=transport, trust_env=False
    )
    async with (
        client as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams

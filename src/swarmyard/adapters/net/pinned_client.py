"""An httpx2 transport that connects only to addresses the egress rules passed,
for clients the fetcher cannot stand in for (the MCP SDK's streamable HTTP
client needs a long-lived httpx2 client of its own).

`pin(url)` checks the URL and keeps its host's checked addresses; the
network backend then connects that host to those addresses only, never
asking a resolver again, so DNS rebinding cannot move the connection. A
request for any other host (a redirect somewhere else) is checked the same
way before it is sent, and fails with `EgressRefused` when the rules refuse
it. No proxy from the environment is used: a proxy would resolve the name
itself. TLS still verifies the certificate against the host name (httpcore2
sends the URL's host as the server name).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

import httpcore2
import httpx2

from ...ports.net import FetchError, FetchRefused, IPAddress
from .egress import EgressGuard
from .hosts import parse_host
from .pinned import SocketOption, connect_first
from .urls import Target

__all__ = ["EgressRefused", "PinnedTransport"]

# Most specific first: each httpcore2 error becomes the httpx2 error callers catch.
_ERRORS: tuple[tuple[type[Exception], type[httpx2.TransportError]], ...] = (
    (httpcore2.ConnectTimeout, httpx2.ConnectTimeout),
    (httpcore2.ReadTimeout, httpx2.ReadTimeout),
    (httpcore2.WriteTimeout, httpx2.WriteTimeout),
    (httpcore2.PoolTimeout, httpx2.PoolTimeout),
    (httpcore2.TimeoutException, httpx2.TimeoutException),
    (httpcore2.ConnectError, httpx2.ConnectError),
    (httpcore2.ReadError, httpx2.ReadError),
    (httpcore2.WriteError, httpx2.WriteError),
    (httpcore2.NetworkError, httpx2.NetworkError),
    (httpcore2.UnsupportedProtocol, httpx2.UnsupportedProtocol),
    (httpcore2.LocalProtocolError, httpx2.LocalProtocolError),
    (httpcore2.RemoteProtocolError, httpx2.RemoteProtocolError),
    (httpcore2.ProtocolError, httpx2.ProtocolError),
)


class EgressRefused(httpx2.ConnectError):
    """The egress rules refused the request's destination; nothing was connected."""


def _key(host: str) -> str:
    """A host (as httpx2 spells it: IPv6 without brackets) as `Target.host.name`
    does, so `127.1` finds the pin of 127.0.0.1; a host the URL parser refuses
    is never pinned, so it is left as it is (checking it refuses it)."""
    try:
        return parse_host(host, bracketed=":" in host).name
    except FetchRefused:
        return host


@contextlib.contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for inner, outer in _ERRORS:
            if isinstance(exc, inner):
                raise outer(str(exc)) from exc
        raise


class _PinnedBackend(httpcore2.AsyncNetworkBackend):
    def __init__(
        self, pins: dict[str, tuple[IPAddress, ...]], inner: httpcore2.AsyncNetworkBackend
    ) -> None:
        self._pins = pins
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        addresses = self._pins.get(_key(host))
        if not addresses:
            # The transport pins every host before sending; a guard against future misuse.
            raise httpcore2.ConnectError(f"{host} was not checked for this connection")
        return await connect_first(
            self._inner.connect_tcp,
            addresses,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
            retry_on=(httpcore2.ConnectError, httpcore2.ConnectTimeout),
            none=httpcore2.ConnectError(f"{host} has no checked address"),
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("Unix sockets are never connected to")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Body(httpx2.AsyncByteStream):
    def __init__(self, inner: AsyncIterable[bytes]) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            with _mapped():
                await close()


class PinnedTransport(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        guard: EgressGuard,
        *,
        network_backend: httpcore2.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._guard = guard
        self._pins: dict[str, tuple[IPAddress, ...]] = {}
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=ssl_context or httpx2.create_ssl_context(),
            network_backend=_PinnedBackend(self._pins, network_backend or httpcore2.AnyIOBackend()),
            # httpx2's own defaults: idle connections a server may have closed expire.
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )

    async def pin(self, url: str) -> Target:
        """Check `url` (resolving its name) and keep its host's addresses for
        the connections to come. Raises `FetchRefused` or `ResolveFailed`."""
        target, addresses = await self._guard.check(url)
        self._pins[target.host.name] = addresses
        return target

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if _key(request.url.raw_host.decode("ascii")) not in self._pins:
            try:
                await self.pin(str(request.url))
            except FetchError as exc:
                raise EgressRefused(exc.message, request=request) from None
        assert isinstance(request.stream, httpx2.AsyncByteStream)
        core = httpcore2.Request(
            method=request.method,
            url=httpcore2.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped():
            response = await self._pool.handle_async_request(core)
        assert isinstance(response.stream, AsyncIterable)
        return httpx2.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()

"""Send a hop over the network, to the address that was checked and no other.

httpcore (the connection layer under httpx) takes a network backend that
opens its TCP connections. Ours ignores name resolution altogether: it
connects to the addresses the fetcher resolved and checked, so a name that
resolves differently a moment later (DNS rebinding) cannot move the
connection. TLS still verifies the certificate against the host name,
because httpcore starts TLS with the URL's host as the server name (SNI).
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import httpcore

from ...ports.net import FetchFailed, FetchTimeout, IPAddress
from .hops import Hop, HopResponse, read_capped

__all__ = ["PinnedBackend", "PinnedSender", "SocketOption", "connect_first"]

S = TypeVar("S")

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


async def connect_first(
    connect_tcp: Callable[..., Awaitable[S]],
    addresses: Iterable[IPAddress],
    port: int,
    *,
    timeout: float | None,
    local_address: str | None,
    socket_options: Iterable[SocketOption] | None,
    retry_on: tuple[type[Exception], ...],
    none: Exception,
) -> S:
    """`connect_tcp` (a network backend's, httpcore's or httpcore2's) to the
    first checked address that answers; the last failure when none does
    (`none` when there is no address at all)."""
    failure = none
    for address in addresses:
        try:
            return await connect_tcp(
                str(address),
                port,
                timeout=timeout,
                local_address=local_address,
                socket_options=socket_options,
            )
        except retry_on as exc:
            failure = exc  # the next checked address may answer
    raise failure


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects one hop's checked host and port to its checked addresses only."""

    def __init__(self, hop: Hop, inner: httpcore.AsyncNetworkBackend) -> None:
        self._hop = hop
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        target = self._hop.target
        if host != target.host.name or port != target.port:
            # Never reached through the fetcher; a guard against future misuse.
            raise httpcore.ConnectError(f"{host}:{port} was not checked for this request")
        return await connect_first(
            self._inner.connect_tcp,
            self._hop.addresses,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
            retry_on=(httpcore.ConnectError, httpcore.ConnectTimeout),
            none=httpcore.ConnectError(f"{host} has no checked address"),
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("tools never connect to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedSender:
    """One connection per hop (nothing is pooled across hops or fetches, so
    no connection opened for one destination is reused for another)."""

    def __init__(
        self,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._backend = network_backend or httpcore.AnyIOBackend()
        self._ssl = ssl_context

    async def send(self, hop: Hop) -> HopResponse:
        url = httpcore.URL(
            scheme=hop.target.scheme,
            host=hop.target.host.name,
            port=hop.target.port,
            target=hop.target.path,
        )
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), hop.timeout)
        pool = httpcore.AsyncConnectionPool(
            ssl_context=self._ssl,
            network_backend=PinnedBackend(hop, self._backend),
            max_connections=1,
            retries=0,
        )
        try:
            async with (
                pool,
                pool.stream(
                    hop.method,
                    url,
                    headers=list(hop.headers),
                    content=hop.body,
                    extensions={"timeout": timeouts},
                ) as response,
            ):
                body, truncated = await read_capped(response.aiter_stream(), hop.max_bytes)
                headers = tuple(
                    (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers
                )
                return HopResponse(response.status, headers, body, truncated)
        except httpcore.TimeoutException:
            raise FetchTimeout(
                f"{hop.target.url} did not answer in time", url=hop.target.url
            ) from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            raise FetchFailed(
                f"{hop.target.url} could not be fetched: {exc or type(exc).__name__}",
                url=hop.target.url,
            ) from None

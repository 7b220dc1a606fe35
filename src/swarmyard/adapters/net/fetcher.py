"""The SSRF-safe HTTP fetcher: the one way a tool reaches the network.

For each hop (the first request and every redirect, at most five): check the
URL's form, resolve the name once, check every address it has, and only
then send the request, pinned to those addresses. Any refusal happens before
a connection is opened. The whole fetch (resolving, hops, body) runs under
one time cap, and the body is read up to a byte cap and no further.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import httpcore

from ...ports.net import FetchRefused, FetchResult, FetchTimeout, IPAddress, Resolver
from .addresses import EgressRules
from .egress import EgressGuard
from .hops import Hop, HopResponse, HopSender
from .pinned import PinnedSender
from .urls import Target

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "MAX_REDIRECTS", "SafeHttpFetcher"]

DEFAULT_MAX_BYTES = 1 << 20
DEFAULT_TIMEOUT = 20.0
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Set by the fetcher itself: a caller must not smuggle another host or framing in.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
# Credentials a caller meant for one origin; dropped when a redirect leaves it.
_ORIGIN_BOUND = frozenset({"authorization", "cookie", "proxy-authorization"})
_DEFAULT_HEADERS = {
    "user-agent": "Swarmyard-fetch/1",
    "accept": "*/*",
    # Compressed bodies would make the byte cap a cap on compressed bytes.
    "accept-encoding": "identity",
}


class SafeHttpFetcher:
    """`rules` allows private networks or hosts explicitly (none by default).
    `sender` carries the checked hops (tests hand in a counting or canned
    one); by default it connects with httpcore through `network_backend`."""

    def __init__(
        self,
        *,
        resolver: Resolver | None = None,
        rules: EgressRules | None = None,
        sender: HopSender | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self._guard = EgressGuard(rules, resolver)
        self._sender = sender or PinnedSender(network_backend)
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._max_redirects = max_redirects

    async def check(self, url: str) -> tuple[Target, tuple[IPAddress, ...]]:
        """Where `url` would connect: its target and checked addresses, or
        `FetchRefused`. Nothing is sent."""
        return await self._guard.check(url)

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,
    ) -> FetchResult:
        method = method.upper()
        if method not in _METHODS:
            raise FetchRefused("method", f"{method} requests are not sent", url=url)
        limit = min(max_bytes or self._max_bytes, self._max_bytes)
        seconds = min(timeout or self._timeout, self._timeout)
        deadline = time.monotonic() + seconds
        try:
            async with asyncio.timeout(seconds):
                return await self._follow(
                    url, _Request(method, headers or {}, body, limit, deadline)
                )
        except TimeoutError:
            raise FetchTimeout(
                f"fetching {url} took longer than {seconds:g} seconds", url=url
            ) from None

    async def _follow(self, url: str, request: _Request) -> FetchResult:
        sent = {k.lower(): v for k, v in request.headers.items() if k.lower() not in _OWN_HEADERS}
        method, body = request.method, request.body
        redirects: list[str] = []
        first_origin: tuple[str, str, int] | None = None
        while True:
            target, addresses = await self.check(url)
            first_origin = first_origin or target.origin
            if target.origin != first_origin:
                sent = {k: v for k, v in sent.items() if k not in _ORIGIN_BOUND}
            hop = Hop(
                target,
                addresses,
                method,
                _headers(target, sent, body),
                body,
                request.max_bytes,
                max(request.deadline - time.monotonic(), 0.001),
            )
            response = await self._sender.send(hop)
            location = response.header("location")
            if response.status not in _REDIRECTS or location is None:
                return _result(target, response, redirects)
            redirects.append(target.url)
            if len(redirects) > self._max_redirects:
                raise FetchRefused(
                    "redirects", f"more than {self._max_redirects} redirects", url=redirects[0]
                )
            url = urljoin(target.url, location)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                # What browsers do: the redirected request is a GET without the body.
                method = "GET" if method != "HEAD" else method
                body = None


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    headers: Mapping[str, str]
    body: bytes | None
    max_bytes: int
    deadline: float  # time.monotonic() value


def _headers(
    target: Target, extra: Mapping[str, str], body: bytes | None
) -> tuple[tuple[str, str], ...]:
    merged = {**_DEFAULT_HEADERS, **extra, "host": target.authority, "connection": "close"}
    if body is not None:
        merged["content-length"] = str(len(body))
    return tuple(merged.items())


def _result(target: Target, response: HopResponse, redirects: list[str]) -> FetchResult:
    return FetchResult(
        url=target.url,
        status=response.status,
        headers=response.headers,
        body=response.body,
        truncated=response.truncated,
        redirects=tuple(redirects),
    )

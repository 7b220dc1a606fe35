"""Ports of outbound HTTP: the one fetcher every tool goes through, and the
name resolver it asks.

A tool never opens a connection itself: it hands a URL to the `HttpFetcher`,
which refuses addresses inside the host's networks (loopback, private
ranges, cloud metadata, ...) before any connection is made, checks every
redirect the same way, and caps what comes back. The resolver is a port of
its own so tests decide what a name resolves to. What connects elsewhere
than through the fetcher (an MCP server's HTTP endpoint) is held to the same
address rules; a URL stored for later is screened first (`EgressScreen`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Protocol

__all__ = [
    "EgressScreen",
    "FetchError",
    "FetchFailed",
    "FetchRefused",
    "FetchResult",
    "FetchTimeout",
    "HttpFetcher",
    "IPAddress",
    "ResolveFailed",
    "Resolver",
]

IPAddress = IPv4Address | IPv6Address


class Resolver(Protocol):
    """Turns a host name into the addresses it has now."""

    async def resolve(self, host: str) -> list[IPAddress]:
        """Every address of `host` (an IDNA-encoded, lower-case name), in the
        order a client should try them; raises `ResolveFailed` when it has none."""
        ...


class EgressScreen(Protocol):
    """Judges a URL that will be connected to later, before it is kept."""

    def screen(self, url: str) -> None:
        """Raises `FetchRefused` naming the rule for a URL whose form, scheme
        (only http and https), literal address or local name is refused. A
        host name is not resolved: its addresses are checked on connecting."""
        ...


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # the URL that answered, after redirects
    status: int
    headers: tuple[tuple[str, str], ...]  # as sent, in order; names lower-cased
    body: bytes  # at most the fetch's byte cap
    truncated: bool  # the body went on past the cap and was cut there
    redirects: tuple[str, ...] = ()  # the URLs that redirected, in order

    @property
    def content_type(self) -> str:
        return self.header("content-type") or ""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k == wanted), None)


class HttpFetcher(Protocol):
    """The only way out to the network for tools."""

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
        """Send one request and follow its redirects, each hop checked before
        it is connected to. `max_bytes` and `timeout` (seconds, for the whole
        fetch: resolving, every hop and the body) default to the fetcher's
        own caps and can only lower them. Raises `FetchRefused` for a
        destination the rules forbid, `FetchTimeout` past the time cap, and
        `FetchFailed` when the server could not be reached or answered
        nonsense. An HTTP error status is a result, not an exception."""
        ...


class FetchError(Exception):
    """A fetch did not produce a response; the message is safe to show to a model."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.url = url


class FetchRefused(FetchError):
    """The destination is forbidden; nothing was sent to it. `rule` names the
    rule that refused it ("scheme", "credentials", "loopback", "private",
    "metadata", "redirects", ...)."""

    def __init__(self, rule: str, message: str, *, url: str = "") -> None:
        super().__init__(f"refused ({rule}): {message}", url=url)
        self.rule = rule
        self.reason = message


class FetchTimeout(FetchError):
    """The fetch went past its time cap and was abandoned."""


class FetchFailed(FetchError):
    """The name did not resolve, the connection failed, or the server broke the protocol."""


class ResolveFailed(FetchFailed):
    """The name has no address (or the resolver could not be asked)."""

"""The in-memory fetcher: canned responses behind the very same rules.

Tools are tested against it without a network: every refusal the real
fetcher makes, this one makes too (it is the real fetcher, with a resolver
and a sender that never leave the process). `sent` lists the hops that got
past the checks, which is what "no connection was made" means here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...ports.net import FetchFailed
from .addresses import EgressRules
from .fetcher import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, MAX_REDIRECTS, SafeHttpFetcher
from .hops import Hop, HopResponse
from .resolvers import MemoryResolver
from .urls import parse_url

__all__ = ["CannedResponse", "MemoryHttpFetcher", "MemorySender"]


@dataclass(frozen=True, slots=True)
class CannedResponse:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("content-type", "text/plain; charset=utf-8"),)


class MemorySender:
    """Answers hops from `routes` (canonical URL -> response)."""

    def __init__(self, routes: Mapping[str, CannedResponse] | None = None) -> None:
        self.routes: dict[str, CannedResponse] = dict(routes or {})
        self.sent: list[Hop] = []

    async def send(self, hop: Hop) -> HopResponse:
        self.sent.append(hop)
        canned = self.routes.get(hop.target.url)
        if canned is None:
            raise FetchFailed(f"{hop.target.url}: connection refused", url=hop.target.url)
        body = canned.body[: hop.max_bytes]
        return HopResponse(canned.status, canned.headers, body, len(canned.body) > hop.max_bytes)


class MemoryHttpFetcher(SafeHttpFetcher):
    def __init__(
        self,
        *,
        names: Mapping[str, Sequence[str]] | None = None,
        rules: EgressRules | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self.resolver = MemoryResolver(names)
        self.sender = MemorySender()
        super().__init__(
            resolver=self.resolver,
            rules=rules,
            sender=self.sender,
            max_bytes=max_bytes,
            timeout=timeout,
            max_redirects=max_redirects,
        )

    @property
    def sent(self) -> list[Hop]:
        return self.sender.sent

    def route(
        self,
        url: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str = "text/plain; charset=utf-8",
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        canned = CannedResponse(status, data, (("content-type", content_type), *headers))
        self.sender.routes[parse_url(url).url] = canned

    def redirect(self, url: str, to: str, *, status: int = 302) -> None:
        self.sender.routes[parse_url(url).url] = CannedResponse(status, b"", (("location", to),))

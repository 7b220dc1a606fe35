"""Conformance suite of the HttpFetcher port: the real fetcher (over a
loopback connection) and the in-memory one answer the same site alike.

The site: http://site.test:PORT/ resolves to 127.0.0.1 and is allowed by
name; /hello is text, /big is larger than any cap, /to-private redirects to
internal.test (10.x). `contacts()` counts what reached the destination
(connections for the real fetcher, hops for the in-memory one): a refusal
must leave it unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from swarmyard.adapters.net import EgressRules, MemoryHttpFetcher, MemoryResolver, SafeHttpFetcher
from swarmyard.ports.net import FetchRefused, HttpFetcher
from swarmyard.testing.http_site import BIG_BYTES, HELLO, CountingBackend, LoopbackSite

NAMES = {"site.test": ["127.0.0.1"], "internal.test": ["10.20.30.40"]}
RULES = EgressRules.parse(["site.test"])
CAP = 50_000


@dataclass
class Subject:
    fetcher: HttpFetcher
    base: str
    contacts: Callable[[], int]


async def _real() -> AsyncIterator[Subject]:
    backend = CountingBackend()
    async with LoopbackSite() as site:
        fetcher = SafeHttpFetcher(
            resolver=MemoryResolver(NAMES), rules=RULES, network_backend=backend, max_bytes=CAP
        )
        yield Subject(fetcher, f"http://site.test:{site.port}", lambda: backend.count)


async def _memory() -> AsyncIterator[Subject]:
    fetcher = MemoryHttpFetcher(names=NAMES, rules=RULES, max_bytes=CAP)
    base = "http://site.test:8080"
    fetcher.route(f"{base}/hello", HELLO)
    fetcher.route(f"{base}/big", b"x" * BIG_BYTES)
    fetcher.redirect(
        f"{base}/redirect?to=http://internal.test/secret", "http://internal.test/secret"
    )
    yield Subject(fetcher, base, lambda: len(fetcher.sent))


@pytest.fixture(params=["real", "memory"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    factory = _real if request.param == "real" else _memory
    async for s in factory():
        yield s


async def test_a_page_is_fetched_with_status_type_and_body(subject: Subject) -> None:
    result = await subject.fetcher.fetch(f"{subject.base}/hello")
    assert (result.status, result.body.decode(), result.truncated) == (200, HELLO, False)
    assert result.content_type.startswith("text/plain")
    assert result.url == f"{subject.base}/hello"


async def test_a_large_body_is_cut_at_the_cap(subject: Subject) -> None:
    result = await subject.fetcher.fetch(f"{subject.base}/big")
    assert (len(result.body), result.truncated) == (CAP, True)
    lower = await subject.fetcher.fetch(f"{subject.base}/big", max_bytes=10)
    assert len(lower.body) == 10


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://169.254.169.254/", "metadata"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://internal.test/", "private"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://site.test/", "scheme"),
        ("http://u:p@site.test/", "credentials"),
    ],
)
async def test_forbidden_destinations_are_refused_before_contact(
    subject: Subject, url: str, rule: str
) -> None:
    with pytest.raises(FetchRefused) as caught:
        await subject.fetcher.fetch(url)
    assert caught.value.rule == rule
    assert subject.contacts() == 0


async def test_a_redirect_to_a_private_host_is_refused_after_the_first_hop(
    subject: Subject,
) -> None:
    with pytest.raises(FetchRefused) as caught:
        await subject.fetcher.fetch(f"{subject.base}/redirect?to=http://internal.test/secret")
    assert caught.value.rule == "private"
    assert subject.contacts() == 1

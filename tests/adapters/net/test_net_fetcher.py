"""The SSRF-safe fetcher over a real loopback connection.

Names resolve through an in-memory resolver, so each test decides where a
name points; connections go through a counting network backend, so a
refusal is shown to happen before any connection (the count stays 0).
Loopback is reachable only where a test's rules allow it explicitly.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from swarmyard.adapters.net import EgressRules, MemoryResolver, SafeHttpFetcher
from swarmyard.ports.net import FetchFailed, FetchRefused, FetchTimeout
from swarmyard.testing.http_site import BIG_BYTES, HELLO, CountingBackend, LoopbackSite


@pytest.fixture
async def site() -> AsyncIterator[LoopbackSite]:
    async with LoopbackSite() as s:
        yield s


@pytest.fixture
def backend() -> CountingBackend:
    return CountingBackend()


@pytest.fixture
def resolver() -> MemoryResolver:
    return MemoryResolver(
        {
            "site.test": ["127.0.0.1"],
            "internal.test": ["10.20.30.40"],
            "mixed.test": ["93.184.216.34", "10.0.0.1"],
            "public.test": ["93.184.216.34"],
        }
    )


def fetcher(
    backend: CountingBackend, resolver: MemoryResolver, *allow: str, **caps: float
) -> SafeHttpFetcher:
    return SafeHttpFetcher(
        resolver=resolver,
        rules=EgressRules.parse(allow),
        network_backend=backend,
        **caps,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/", "metadata"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0x7f000001/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://017700000001/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://[::127.0.0.1]/", "loopback"),
        ("http://[64:ff9b::a14:1e28]/", "private"),
        ("http://[2002:a14:1e28::]/", "private"),
        ("http://internal.test/", "private"),
        ("http://mixed.test/", "private"),  # every address is checked, not only the first
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
        ("http://localhost/", "loopback"),
        ("http://100.64.0.1/", "cgnat"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme"),
        ("http://admin:admin@public.test/", "credentials"),
    ],
)
async def test_forbidden_destinations_are_refused_before_connecting(
    url: str, rule: str, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    with pytest.raises(FetchRefused) as caught:
        await fetcher(backend, resolver).fetch(url)
    assert caught.value.rule == rule
    assert f"refused ({rule})" in str(caught.value)
    assert backend.count == 0


async def test_a_fetch_through_allowed_loopback_returns_status_type_and_body(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    result = await fetcher(backend, resolver, "127.0.0.1/32").fetch(site.url("/hello"))
    assert result.status == 200
    assert result.content_type == "text/plain; charset=utf-8"
    assert result.body.decode() == HELLO
    assert not result.truncated
    assert result.url == site.url("/hello")
    assert backend.connects == [("127.0.0.1", site.port)]


async def test_the_connection_goes_to_the_checked_address_under_the_name(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    # DNS rebinding: the name is resolved once, and the connection is made
    # to that address, whatever the name would resolve to later.
    result = await fetcher(backend, resolver, "site.test").fetch(
        site.url("/echo", host="site.test")
    )
    echo = json.loads(result.body)
    assert resolver.calls == ["site.test"]
    assert backend.connects == [("127.0.0.1", site.port)]
    assert echo["headers"]["host"] == f"site.test:{site.port}"
    assert echo["headers"]["accept-encoding"] == "identity"


async def test_an_allowed_name_does_not_open_other_names_on_the_same_network(
    backend: CountingBackend, resolver: MemoryResolver
) -> None:
    resolver.set("other.test", "127.0.0.1")
    with pytest.raises(FetchRefused, match="loopback"):
        await fetcher(backend, resolver, "site.test").fetch("http://other.test/")
    assert backend.count == 0


async def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    url = site.url("/redirect?to=http://internal.test/secret")
    with pytest.raises(FetchRefused) as caught:
        await fetcher(backend, resolver, "127.0.0.1").fetch(url)
    assert caught.value.rule == "private"
    assert caught.value.url == "http://internal.test/secret"
    assert backend.count == 1  # the first hop only


@pytest.mark.parametrize(
    ("to", "rule"),
    [
        ("http://169.254.169.254/", "metadata"),
        ("http://0x0a000001/", "private"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://public.test/", "scheme"),
        ("http://user:pw@public.test/", "credentials"),
    ],
)
async def test_every_redirect_hop_is_checked(
    to: str, rule: str, site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    with pytest.raises(FetchRefused) as caught:
        await fetcher(backend, resolver, "127.0.0.1").fetch(site.url(f"/redirect?to={to}"))
    assert caught.value.rule == rule
    assert backend.count == 1


async def test_a_numeric_spelling_of_an_allowed_address_is_that_address(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    to = f"http://0x7f000001:{site.port}/hello"
    result = await fetcher(backend, resolver, "127.0.0.1").fetch(site.url(f"/redirect?to={to}"))
    assert result.body.decode() == HELLO
    assert result.url == site.url("/hello")
    assert result.redirects == (site.url(f"/redirect?to={to}"),)


async def test_redirects_are_followed_up_to_five(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    url = site.url("/hello")
    for _ in range(5):
        url = site.url(f"/redirect?to={url}")
    result = await fetcher(backend, resolver, "127.0.0.1").fetch(url)
    assert result.body.decode() == HELLO
    assert len(result.redirects) == 5
    with pytest.raises(FetchRefused) as caught:
        await fetcher(backend, resolver, "127.0.0.1").fetch(site.url(f"/redirect?to={url}"))
    assert caught.value.rule == "redirects"


async def test_credentials_do_not_follow_a_redirect_to_another_origin(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    other = site.url("/echo", host="site.test")
    result = await fetcher(backend, resolver, "127.0.0.1", "site.test").fetch(
        site.url(f"/redirect?to={other}"),
        headers={"Authorization": "Bearer t0ken", "X-Kept": "yes", "Host": "evil.test"},
    )
    echo = json.loads(result.body)
    assert "authorization" not in echo["headers"]
    assert echo["headers"]["x-kept"] == "yes"
    assert echo["headers"]["host"] == f"site.test:{site.port}"


async def test_a_303_turns_a_post_into_a_get(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    url = site.url(f"/redirect?status=303&to={site.url('/echo')}")
    result = await fetcher(backend, resolver, "127.0.0.1").fetch(url, method="POST", body=b"data")
    assert json.loads(result.body)["method"] == "GET"
    assert site.requests[0]["body"] == "data"


async def test_the_body_is_cut_at_the_size_cap(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    capped = fetcher(backend, resolver, "127.0.0.1", max_bytes=10_000)
    result = await capped.fetch(site.url("/big"))
    assert len(result.body) == 10_000
    assert result.truncated
    smaller = await capped.fetch(site.url("/big"), max_bytes=100)
    assert len(smaller.body) == 100
    larger = await capped.fetch(site.url("/big"), max_bytes=BIG_BYTES)  # cannot raise the cap
    assert len(larger.body) == 10_000


async def test_a_slow_answer_is_abandoned_at_the_time_cap(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    slow = fetcher(backend, resolver, "127.0.0.1", timeout=0.6)
    with pytest.raises(FetchTimeout, match=r"0\.6 seconds"):
        await slow.fetch(site.url("/slow"))
    with pytest.raises(FetchTimeout):
        await fetcher(backend, resolver, "127.0.0.1").fetch(site.url("/slow"), timeout=0.3)


async def test_an_unreachable_or_unknown_host_fails_clearly(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    with pytest.raises(FetchFailed, match="did not resolve"):
        await fetcher(backend, resolver).fetch("http://nowhere.test/")
    closed = site.port
    async with LoopbackSite() as other:
        closed = other.port
    with pytest.raises(FetchFailed, match="could not be fetched"):
        await fetcher(backend, resolver, "127.0.0.1").fetch(f"http://127.0.0.1:{closed}/")


async def test_an_http_error_status_is_a_result(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    result = await fetcher(backend, resolver, "127.0.0.1").fetch(site.url("/missing"))
    assert result.status == 404


async def test_unknown_methods_are_refused(
    backend: CountingBackend, resolver: MemoryResolver
) -> None:
    with pytest.raises(FetchRefused, match="method"):
        await fetcher(backend, resolver).fetch("http://public.test/", method="CONNECT")

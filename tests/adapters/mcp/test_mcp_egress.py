"""MCP servers' HTTP endpoints are held to the fetcher's egress rules when
connecting: the name is resolved (through the in-memory resolver the
fetcher tests use), every address checked, and the connection made to the
checked address only. A refused endpoint is unhealthy with the rule named,
and a counting network backend shows nothing was connected. Redirects away
from the endpoint are not followed to a refused address."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime

import httpcore2
import httpx2
import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.mcp import SdkMcpConnector
from swarmyard.adapters.net import (
    EgressGuard,
    EgressRefused,
    EgressRules,
    MemoryResolver,
    PinnedTransport,
)
from swarmyard.adapters.net.pinned import SocketOption
from swarmyard.adapters.security import FernetSecretBox
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import DEFAULT_WORKSPACE, FakeClock, SequentialIds, Workspace
from swarmyard.domain.mcp import McpStatus, McpTransport
from swarmyard.ports import McpEndpoint, McpUnavailable
from swarmyard.services.deps import Deps
from swarmyard.services.mcp_gateway import McpGateway
from swarmyard.services.mcp_servers import McpServerService
from swarmyard.testing.http_site import LoopbackSite
from swarmyard.testing.mcp_servers import free_port

WS = DEFAULT_WORKSPACE


class CountingBackend(httpcore2.AsyncNetworkBackend):
    """httpcore2's own backend, recording every (host, port) it is asked to
    connect to; only loopback is really connected (tests stay on this host)."""

    def __init__(self) -> None:
        self._inner = httpcore2.AnyIOBackend()
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        self.connects.append((host, port))
        if host != "127.0.0.1":
            raise httpcore2.ConnectError(f"{host}: this test connects to loopback only")
        return await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@pytest.fixture
def backend() -> CountingBackend:
    return CountingBackend()


@pytest.fixture
def resolver() -> MemoryResolver:
    return MemoryResolver(
        {
            "internal.test": ["10.20.30.40"],
            "mixed.test": ["93.184.216.34", "10.0.0.1"],
            "site.test": ["127.0.0.1"],
        }
    )


@pytest.fixture
async def site() -> AsyncIterator[LoopbackSite]:
    async with LoopbackSite() as s:
        yield s


def connector(backend: CountingBackend, resolver: MemoryResolver, *allow: str) -> SdkMcpConnector:
    egress = EgressGuard(EgressRules.parse(allow), resolver)
    return SdkMcpConnector(egress=egress, network_backend=backend)


def http(url: str) -> McpEndpoint:
    return McpEndpoint(McpTransport.HTTP, url=url, label="MCP server 'x'")


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
        ("http://127.0.0.1:5432/", "loopback"),
        ("http://[::ffff:127.0.0.1]/mcp", "loopback"),
        ("http://0x7f000001/mcp", "loopback"),
        ("http://localhost:8080/mcp", "loopback"),
        ("http://169.254.1.1/mcp", "link_local"),
        ("http://100.64.0.1/mcp", "cgnat"),
        ("http://internal.test/mcp", "private"),  # the name resolves to 10.20.30.40
        ("http://mixed.test/mcp", "private"),  # every address counts, not only the first
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme"),
    ],
)
async def test_refused_endpoints_are_never_connected_to(
    url: str, rule: str, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    with pytest.raises(McpUnavailable) as refused:
        await connector(backend, resolver).connect(http(url), timeout=5)
    assert refused.value.message.startswith(f"MCP server 'x': refused ({rule}): ")
    assert backend.connects == []


async def test_the_allow_list_lets_private_addresses_through_but_never_metadata(
    backend: CountingBackend, resolver: MemoryResolver
) -> None:
    lenient = connector(backend, resolver, "169.254.0.0/16", "10.0.0.0/8")
    with pytest.raises(McpUnavailable, match=r"refused \(metadata\)"):
        await lenient.connect(http("http://169.254.169.254/"), timeout=5)
    assert backend.connects == []
    with pytest.raises(McpUnavailable, match="ConnectError"):  # allowed: nobody answers there
        await lenient.connect(http("http://internal.test:9/mcp"), timeout=5)
    assert backend.connects == [("10.20.30.40", 9)]


async def test_the_connection_goes_to_the_address_that_was_checked(
    backend: CountingBackend, resolver: MemoryResolver
) -> None:
    port = free_port()
    loopback = connector(backend, resolver, "127.0.0.1")
    with pytest.raises(McpUnavailable, match="ConnectError"):
        await loopback.connect(http(f"http://site.test:{port}/mcp"), timeout=5)
    # Resolved once, by us; the socket was opened to the address, not the name.
    assert resolver.calls == ["site.test"]
    assert backend.connects == [("127.0.0.1", port)]


async def test_a_redirect_to_a_private_address_is_not_followed(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    away = site.url("/redirect?to=http://10.1.2.3/mcp&status=307")
    with pytest.raises(McpUnavailable, match="not followed"):
        await connector(backend, resolver, "127.0.0.1").connect(http(away), timeout=5)
    assert {host for host, _ in backend.connects} == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("to", "rule"),
    [("http://10.1.2.3/mcp", "private"), ("http://internal.test/mcp", "private")],
)
async def test_the_pinned_transport_checks_every_other_destination(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver, to: str, rule: str
) -> None:
    """Even a client that follows every redirect reaches no refused address."""
    guard = EgressGuard(EgressRules.parse(["127.0.0.1"]), resolver)
    transport = PinnedTransport(guard, network_backend=backend)
    async with httpx2.AsyncClient(transport=transport, follow_redirects=True) as client:
        with pytest.raises(EgressRefused, match=rf"refused \({rule}\)"):
            await client.get(site.url(f"/redirect?to={to}"))
        assert (await client.get(site.url("/hello"))).status_code == 200
    assert {host for host, _ in backend.connects} == {"127.0.0.1"}


async def test_an_allowed_host_in_another_spelling_finds_its_checked_address(
    site: LoopbackSite, backend: CountingBackend, resolver: MemoryResolver
) -> None:
    """httpx2 keeps a redirect's host as written (127.1); the pin is kept under
    the address it names, so the connection goes where the check said."""
    guard = EgressGuard(EgressRules.parse(["127.0.0.1"]), resolver)
    transport = PinnedTransport(guard, network_backend=backend)
    elsewhere = site.url("/hello", host="127.1")
    async with httpx2.AsyncClient(transport=transport, follow_redirects=True) as client:
        answer = await client.get(site.url(f"/redirect?to={elsewhere}"))
    assert answer.status_code == 200
    assert {host for host, _ in backend.connects} == {"127.0.0.1"}


async def test_a_refused_server_is_unhealthy_with_the_rule_and_nothing_connected(
    backend: CountingBackend, resolver: MemoryResolver
) -> None:
    store = MemoryStore()
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    await store.add_workspace(Workspace(WS, "Default", clock.now()))
    deps = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
    box = FernetSecretBox(b"test secret")
    egress = EgressGuard(EgressRules(), resolver)
    gateway = McpGateway(
        deps, SdkMcpConnector(egress=egress, network_backend=backend), box, stdio_allowed=False
    )
    servers = McpServerService(deps, box, stdio_allowed=False, egress=egress)
    # A name is not resolved when registering: what it resolves to is checked on connecting.
    await servers.register(WS, {"name": "corp", "url": "http://internal.test/mcp"}, by="tests")
    assert await gateway.tools_for(WS) == []
    health = await gateway.probe(WS, "corp")
    assert health.status is McpStatus.UNHEALTHY
    assert health.error == (
        "MCP server 'corp': refused (private): internal.test resolves to 10.20.30.40; "
        "10.20.30.40 is a private address (10.0.0.0/8)"
    )
    assert health.retry_at is not None
    assert backend.connects == []
    await gateway.aclose()

"""Conformance suite of the Resolver port: the system's resolver and the in-memory one."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from swarmyard.adapters.net import MemoryResolver, SystemResolver
from swarmyard.ports.net import ResolveFailed, Resolver


@pytest.fixture(params=["system", "memory"])
def resolver(request: pytest.FixtureRequest) -> Resolver:
    if request.param == "system":
        return SystemResolver()
    return MemoryResolver({"localhost": ["127.0.0.1", "::1", "127.0.0.1"]})


async def test_a_known_name_gives_its_addresses_once_each(resolver: Resolver) -> None:
    addresses = await resolver.resolve("localhost")
    assert ip_address("127.0.0.1") in addresses or ip_address("::1") in addresses
    assert len(addresses) == len(set(addresses))


async def test_a_name_that_does_not_exist_fails_clearly(resolver: Resolver) -> None:
    # .invalid never resolves (RFC 6761), with or without a network.
    with pytest.raises(ResolveFailed, match=r"no-such-host\.invalid"):
        await resolver.resolve("no-such-host.invalid")

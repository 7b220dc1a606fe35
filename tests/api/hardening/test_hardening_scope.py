"""Reading the scope: the path the router sees, the client's address, its bucket."""

from __future__ import annotations

from typing import Any

import pytest

from swarmyard.api.hardening import client_ip, limiter_key, route_path


def scope(**fields: Any) -> dict[str, Any]:
    return {"type": "http", "path": "/", "headers": [], "client": ("10.0.0.1", 5000), **fields}


def test_route_path_drops_the_root_path() -> None:
    assert route_path(scope(path="/swarm/api/v1/auth/token", root_path="/swarm")) == (
        "/api/v1/auth/token"
    )
    assert route_path(scope(path="/swarm", root_path="/swarm")) == "/"
    assert route_path(scope(path="/api/v1/tasks", root_path="")) == "/api/v1/tasks"


def test_client_ip_is_the_peer_by_default() -> None:
    forwarded = scope(headers=[(b"x-forwarded-for", b"203.0.113.7")])
    assert client_ip(forwarded) == "10.0.0.1"
    assert client_ip(scope(client=None)) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"203.0.113.7", "203.0.113.7"),
        (b" 203.0.113.7 , 10.0.0.9, 10.0.0.1", "203.0.113.7"),
        (b"2001:db8::1", "2001:db8::1"),
        (b"not-an-address", "10.0.0.1"),
        (b"", "10.0.0.1"),
    ],
)
def test_trusted_forwarded_for_takes_the_first_hop(header: bytes, expected: str) -> None:
    s = scope(headers=[(b"X-Forwarded-For", header)])
    assert client_ip(s, trust_forwarded=True) == expected


def test_limiter_key_groups_ipv6_by_64_and_unwraps_mapped_ipv4() -> None:
    assert limiter_key("192.0.2.1") == "192.0.2.1"
    assert limiter_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert limiter_key("2001:db8:1:2::9") == limiter_key("2001:db8:1:2:ffff::1")
    assert limiter_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert limiter_key("testclient") == "testclient"
    assert limiter_key(None) == "unknown"

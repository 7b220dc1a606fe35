"""What the hardening layer reads from an ASGI scope: the route path and the client.

Both the rate limiter and the header policy decide by path, and they must
agree on it even when the app is mounted under a root path; the rate limiter
also needs one stable key per client, which is not simply the peer address.
"""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

__all__ = ["client_ip", "limiter_key", "route_path"]

# One IPv6 subscriber usually holds a whole /64, so a key per address would
# hand a single client billions of buckets.
_IPV6_NETWORK_BITS = 64


def route_path(scope: Scope) -> str:
    """The path the router will match: the scope path without the root path."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def client_ip(scope: Scope, *, trust_forwarded: bool = False) -> str | None:
    """The client's address: the peer, or the first X-Forwarded-For hop when told to.

    The forwarded header is written by whoever sends the request, so it is
    only believed when a proxy in front is known to set it; a value that is
    not an IP address falls back to the peer.
    """
    if trust_forwarded:
        forwarded = _first_forwarded_hop(scope)
        if forwarded is not None:
            return forwarded
    client = scope.get("client")
    if not client:
        return None
    host: str = client[0]
    return host


def limiter_key(ip: str | None) -> str:
    """The bucket a client address counts against."""
    if ip is None:
        # Unix sockets and some test servers give no peer: they share one bucket.
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        network = ipaddress.IPv6Network((address, _IPV6_NETWORK_BITS), strict=False)
        return str(network)
    return str(address)


def _first_forwarded_hop(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"x-forwarded-for":
            hop = value.decode("latin-1").split(",", 1)[0].strip()
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return None
    return None

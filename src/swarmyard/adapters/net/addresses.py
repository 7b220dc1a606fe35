"""Which addresses a tool may reach, and the rule that refuses the others.

Everything that is not a public unicast address is refused: a tool asked to
fetch a URL must not become a way into the host's own services (loopback,
the private network, the cloud provider's metadata endpoint, which hands
out credentials). IPv6 forms that carry an IPv4 address (mapped,
compatible, NAT64, 6to4, Teredo) are judged by the IPv4 address inside, so
`::ffff:127.0.0.1` is loopback like `127.0.0.1`.

An operator can allow private networks or host names explicitly (intranet
use); the metadata endpoints stay refused even then.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

from ...ports.net import IPAddress

__all__ = ["METADATA_NAMES", "EgressRules", "Refusal", "refusal"]

# Instance-metadata services: AWS (and most clouds) 169.254.169.254 and its
# IPv6 twin, AWS ECS task metadata, Alibaba Cloud.
_METADATA = frozenset(
    ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
# Refused by name too, before resolving: their addresses vary by cloud.
METADATA_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
)

_V4_RULES: tuple[tuple[str, IPv4Network], ...] = tuple(
    (rule, IPv4Network(net))
    for rule, net in (
        ("unspecified", "0.0.0.0/8"),  # 0.0.0.0 reaches the host itself on Linux
        ("loopback", "127.0.0.0/8"),
        ("link_local", "169.254.0.0/16"),
        ("private", "10.0.0.0/8"),
        ("private", "172.16.0.0/12"),
        ("private", "192.168.0.0/16"),
        ("cgnat", "100.64.0.0/10"),  # carrier-grade NAT: another operator's private range
        ("multicast", "224.0.0.0/4"),
        ("reserved", "240.0.0.0/4"),  # includes the broadcast address
    )
)
_V6_RULES: tuple[tuple[str, IPv6Network], ...] = tuple(
    (rule, IPv6Network(net))
    for rule, net in (
        ("unspecified", "::/128"),
        ("loopback", "::1/128"),
        ("link_local", "fe80::/10"),
        ("private", "fec0::/10"),  # site-local (deprecated, still routed by some)
        ("private", "fc00::/7"),  # unique local addresses
        ("private", "64:ff9b:1::/48"),  # local-use NAT64
        ("multicast", "ff00::/8"),
    )
)
_WHAT = {
    "unspecified": "an unspecified address (it reaches this host)",
    "loopback": "a loopback address",
    "link_local": "a link-local address",
    "private": "a private address",
    "cgnat": "a carrier-grade NAT address",
    "multicast": "a multicast address",
    "reserved": "a reserved address",
}
_NAT64 = IPv6Network("64:ff9b::/96")
_COMPATIBLE = IPv6Network("::/96")


@dataclass(frozen=True, slots=True)
class Refusal:
    rule: str  # "loopback", "private", "metadata", ...
    detail: str  # a sentence for the error message


def _embedded_v4(ip: IPv6Address) -> tuple[str, IPv4Address] | None:
    """The IPv4 address an IPv6 transition form carries, and the form's name."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64:
        return "NAT64", IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _COMPATIBLE and int(ip) > 1:  # not :: or ::1
        return "IPv4-compatible", IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip.teredo is not None:
        # The client half is the one a Teredo relay would deliver to.
        return "Teredo", ip.teredo[1]
    return None


def refusal(ip: IPAddress) -> Refusal | None:
    """Why `ip` may not be reached, or None for a public unicast address."""
    if ip in _METADATA:
        return Refusal("metadata", f"{ip} is a cloud metadata endpoint")
    if isinstance(ip, IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            form, v4 = embedded
            inner = refusal(v4)
            if inner is not None:
                return Refusal(inner.rule, f"{ip} is {form} for {v4}: {inner.detail}")
            return None
        rules: Iterable[tuple[str, IPv4Network | IPv6Network]] = _V6_RULES
    else:
        rules = _V4_RULES
    for rule, net in rules:
        if ip in net:
            return Refusal(rule, f"{ip} is {_WHAT[rule]} ({net})")
    if not ip.is_global:
        # Documentation, benchmarking and protocol-assignment ranges.
        return Refusal("reserved", f"{ip} is in a reserved range, not a public address")
    return None


@dataclass(frozen=True, slots=True)
class EgressRules:
    """What may be reached besides public addresses: nothing, by default."""

    allow_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    # Host names (or "*.suffix" patterns) whose addresses may be private.
    allow_hosts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> EgressRules:
        """From settings: each entry is a CIDR or address ("10.0.0.0/8",
        "127.0.0.1") or a host name ("wiki.intranet", "*.corp.example")."""
        networks: list[IPv4Network | IPv6Network] = []
        hosts: list[str] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError:
                hosts.append(entry)
        return cls(tuple(networks), tuple(hosts))

    def host_allowed(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.allow_hosts)

    def check(self, ip: IPAddress, *, host: str | None = None) -> Refusal | None:
        """Why `ip` (an address of `host`, if a name led to it) may not be reached."""
        why = refusal(ip)
        if why is None or why.rule == "metadata":
            return why
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, IPv6Address) and (embedded := _embedded_v4(ip)) is not None:
            candidates.append(embedded[1])
        if any(c in net for c in candidates for net in self.allow_networks):
            return None
        if host is not None and self.host_allowed(host):
            return None
        return why

"""Read the host of a URL the way a resolver would, before anything is resolved.

`0x7f000001`, `2130706433`, `017700000001` and `127.1` are all 127.0.0.1 to
`inet_aton` and to browsers (the WHATWG URL standard's IPv4 parser, which
this follows). A check that compared the text against "127.0.0.1" would let
them through, so every numeric form becomes the address it means, and a
host that merely looks numeric but is not a valid address is refused rather
than left for a resolver to interpret its own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv6Address

from ...ports.net import FetchRefused, IPAddress

__all__ = ["Host", "parse_host"]

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_HEX = re.compile(r"^0[xX][0-9a-fA-F]*$")


@dataclass(frozen=True, slots=True)
class Host:
    """A host as it will be connected to: a literal address, or a name to resolve."""

    name: str  # lower-case, IDNA-encoded, no trailing dot; the address's text for a literal
    address: IPAddress | None = None  # set when the URL named an address, in any notation

    @property
    def header(self) -> str:
        """How the host is written in a Host header (IPv6 in brackets)."""
        return f"[{self.name}]" if isinstance(self.address, IPv6Address) else self.name


def _refuse(message: str) -> FetchRefused:
    return FetchRefused("host", message)


def parse_host(raw: str, *, bracketed: bool = False) -> Host:
    """`raw` is the host part of a URL: without its port, and without the
    brackets of an IPv6 literal (`bracketed` says it had them)."""
    if "%" in raw:
        # Percent-encoded names and IPv6 zone ids ("fe80::1%eth0") are read
        # differently by different parsers; nothing legitimate needs them here.
        raise _refuse(f"{raw!r}: percent signs are not allowed in a host")
    if bracketed:
        try:
            v6 = IPv6Address(raw)
        except AddressValueError:
            raise _refuse(f"[{raw}] is not an IPv6 address") from None
        return Host(str(v6), v6)
    name = raw.lower()
    if name.endswith("."):
        name = name[:-1]  # "example.com." is the same name, fully qualified
    if not name:
        raise _refuse("the URL has no host")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise _refuse(f"{raw!r} is not a valid international domain name") from None
    labels = name.split(".")
    if _ends_in_number(labels):
        v4 = _ipv4(labels)
        if v4 is None:
            raise _refuse(f"{raw!r} looks like an IPv4 address but is not a valid one")
        return Host(str(v4), v4)
    if not all(_LABEL.match(label) for label in labels):
        raise _refuse(f"{raw!r} is not a valid host name")
    return Host(name)


def _ends_in_number(labels: list[str]) -> bool:
    # The WHATWG rule: a host whose last label is a number is an IPv4
    # address or nothing (so "example.123" is refused, as browsers do).
    last = labels[-1]
    return last.isdigit() or bool(_HEX.match(last))


def _number(part: str) -> int | None:
    """One dotted part: 0x-prefixed hex, 0-prefixed octal, or decimal."""
    if not part:
        return None
    try:
        if _HEX.match(part):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part[1:], 8)
        return int(part, 10) if part.isdigit() else None
    except ValueError:  # "08" is not octal
        return None


def _ipv4(labels: list[str]) -> IPv4Address | None:
    if len(labels) > 4:
        return None
    numbers = [_number(p) for p in labels]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    *head, last = values
    # "a.b" means a.0.0.b: the last part fills every byte the others leave.
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(values)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return IPv4Address(value)

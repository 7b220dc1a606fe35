"""Resolvers: the operating system's, and an in-memory one tests control."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping, Sequence
from ipaddress import ip_address

from ...ports.net import IPAddress, ResolveFailed

__all__ = ["MemoryResolver", "SystemResolver"]


def _unique(addresses: Sequence[IPAddress]) -> list[IPAddress]:
    return list(dict.fromkeys(addresses))


class SystemResolver:
    """getaddrinfo, off the event loop (asyncio runs it in a thread)."""

    async def resolve(self, host: str) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise ResolveFailed(f"{host} did not resolve: {exc}") from None
        addresses = _unique([ip_address(str(info[4][0])) for info in infos])
        if not addresses:
            raise ResolveFailed(f"{host} has no address")
        return addresses


class MemoryResolver:
    """Names and their addresses, as the test says; `calls` lists every lookup."""

    def __init__(self, names: Mapping[str, Sequence[str]] | None = None) -> None:
        self._names = {
            name: [ip_address(a) for a in addresses] for name, addresses in (names or {}).items()
        }
        self.calls: list[str] = []

    def set(self, name: str, *addresses: str) -> None:
        self._names[name] = [ip_address(a) for a in addresses]

    async def resolve(self, host: str) -> list[IPAddress]:
        self.calls.append(host)
        addresses = self._names.get(host)
        if not addresses:
            raise ResolveFailed(f"{host} did not resolve")
        return _unique(addresses)

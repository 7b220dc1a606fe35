"""One hop of a fetch: a request to one destination already checked.

The fetcher decides where a hop may go; a sender only carries it there. The
real sender (pinned.py) connects to the checked addresses and nowhere else;
the in-memory one (memory.py) answers from canned responses, so tools can
be tested with the very same rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from ...ports.net import IPAddress
from .urls import Target

__all__ = ["Hop", "HopResponse", "HopSender", "read_capped"]


@dataclass(frozen=True, slots=True)
class Hop:
    target: Target
    addresses: tuple[IPAddress, ...]  # checked; the only places it may connect to
    method: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    max_bytes: int
    timeout: float  # seconds left for this hop


@dataclass(frozen=True, slots=True)
class HopResponse:
    status: int
    headers: tuple[tuple[str, str], ...]  # names lower-cased
    body: bytes
    truncated: bool

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


class HopSender(Protocol):
    async def send(self, hop: Hop) -> HopResponse: ...


async def read_capped(chunks: AsyncIterator[bytes], limit: int) -> tuple[bytes, bool]:
    """Read at most `limit` bytes and stop: a huge or endless body costs no
    more than the cap. Answers (body, whether more was on its way)."""
    buffer = bytearray()
    async for chunk in chunks:
        room = limit - len(buffer)
        if len(chunk) > room:
            buffer += chunk[:room]
            return bytes(buffer), True
        buffer += chunk
    return bytes(buffer), False

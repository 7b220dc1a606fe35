"""Injected time and identity.

Domain and services never call `datetime.now()` or `uuid4()` themselves:
tests drive leases, learning-profile decay and cron ticks with a fake clock,
and ids stay reproducible.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "IdSource", "SequentialIds", "SystemClock", "UlidIds"]

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class IdSource(Protocol):
    def new(self, prefix: str) -> str:
        """A fresh unique id such as ``task_01jd…``."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        self._now += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class UlidIds:
    """Lexicographically time-ordered ids (ULID layout, lower-case Crockford base32)."""

    def new(self, prefix: str) -> str:
        millis = time.time_ns() // 1_000_000
        value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return f"{prefix}_{''.join(reversed(chars))}"


class SequentialIds:
    """Predictable ids for tests: ``task_0001``, ``task_0002``…"""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}

    def new(self, prefix: str) -> str:
        n = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = n
        return f"{prefix}_{n:04d}"

"""Request budgets per client address and per principal, kept by `limits`.

Moving windows, because a fixed window lets a client spend twice its budget
across a window boundary. The storage is named by a `limits` URI so that
several API processes can share one (``redis://…``) without code changes;
the default keeps counts in this process's memory.

The calls are synchronous: the in-memory storage answers without I/O and the
principal check runs inside request handling where an exception is the
natural way out. A networked storage would block the event loop for one
round trip per check; moving to ``limits.aio`` is the path if that matters.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, parse_many
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

__all__ = ["Quota", "RateLimitConfig", "RateLimited", "RateLimits"]


@dataclass(frozen=True)
class RateLimitConfig:
    """Budgets in `limits` notation (``"300/minute"``; ``"10/minute;100/hour"`` for both)."""

    enabled: bool = True
    per_ip: str = "300/minute"
    per_principal: str = "600/minute"
    # Sign-in and token refresh are where passwords and tokens get guessed.
    auth_per_ip: str = "10/minute"
    auth_prefixes: tuple[str, ...] = ("/api/v1/auth/",)
    # Probes and scrapers must see the process even when a client floods it.
    exempt_paths: frozenset[str] = field(
        default_factory=lambda: frozenset({"/healthz", "/readyz", "/metrics"})
    )
    exempt_prefixes: tuple[str, ...] = ()
    trust_forwarded: bool = False
    storage_uri: str = "memory://"


@dataclass(frozen=True)
class Quota:
    """Where a client stands against the tightest budget that applied."""

    limit: str
    amount: int
    remaining: int
    reset_at: float  # epoch seconds when the oldest counted request leaves the window

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.amount),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }


class RateLimited(Exception):
    """A budget is spent; `retry_after` whole seconds until a request fits again."""

    def __init__(self, retry_after: int, limit: str, quota: Quota | None = None) -> None:
        super().__init__(f"rate limit {limit} exceeded; retry in {retry_after} s")
        self.retry_after = max(1, retry_after)
        self.limit = limit
        self.quota = quota


@dataclass(frozen=True)
class _Bucket:
    scope: str
    items: tuple[RateLimitItem, ...]


def _bucket(scope: str, text: str) -> _Bucket:
    return _Bucket(scope, tuple(parse_many(text)))


def _describe(item: RateLimitItem) -> str:
    # Written back in the notation it was configured in, e.g. "10/minute".
    unit = item.GRANULARITY.name
    if item.multiples == 1:
        return f"{item.amount}/{unit}"
    return f"{item.amount}/{item.multiples} {unit}s"


class RateLimits:
    """The budgets of one API: checked by the middleware (address) and after sign-in (principal)."""

    def __init__(self, config: RateLimitConfig | None = None, *, storage: Storage | None = None):
        self.config = config or RateLimitConfig()
        self._storage = storage or _open_storage(self.config.storage_uri)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._per_ip = _bucket("ip", self.config.per_ip)
        self._auth_per_ip = _bucket("auth-ip", self.config.auth_per_ip)
        self._per_principal = _bucket("principal", self.config.per_principal)

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def is_exempt(self, path: str) -> bool:
        return path in self.config.exempt_paths or path.startswith(self.config.exempt_prefixes)

    def check_address(self, key: str, path: str) -> Quota:
        """Count one request from `key` to `path`; raise `RateLimited` when over budget."""
        buckets = [self._per_ip]
        if path.startswith(self.config.auth_prefixes):
            # The strict bucket first, so a refused sign-in does not also
            # spend the client's general budget.
            buckets.insert(0, self._auth_per_ip)
        return self._hit(buckets, key)

    def check_principal(self, actor: str) -> None:
        """Count one request by an authenticated actor; raise `RateLimited` when over budget."""
        if self.enabled:
            self._hit([self._per_principal], actor)

    def reset(self) -> None:
        """Forget every count (tests, and an operator lifting a block)."""
        self._storage.reset()

    def _hit(self, buckets: list[_Bucket], key: str) -> Quota:
        tightest: Quota | None = None
        for bucket in buckets:
            for item in bucket.items:
                ident = ("swarmyard", bucket.scope, key)
                allowed = self._limiter.hit(item, *ident)
                quota = self._quota(item, ident)
                if not allowed:
                    retry = math.ceil(quota.reset_at - time.time())
                    raise RateLimited(retry, quota.limit, quota)
                if tightest is None or quota.remaining < tightest.remaining:
                    tightest = quota
        assert tightest is not None, "every bucket holds at least one limit"
        return tightest

    def _quota(self, item: RateLimitItem, ident: tuple[str, ...]) -> Quota:
        # `limits` reads its own wall clock; the reset time is on the same clock.
        stats = self._limiter.get_window_stats(item, *ident)
        return Quota(_describe(item), item.amount, stats.remaining, stats.reset_time)


def _open_storage(uri: str) -> Storage:
    storage = storage_from_string(uri)
    if not isinstance(storage, Storage):
        raise ValueError(
            f"rate limit storage {uri!r} is asynchronous; use e.g. memory:// or redis://"
        )
    if not isinstance(storage, MovingWindowSupport):
        raise ValueError(f"rate limit storage {uri!r} cannot keep moving windows")
    return storage

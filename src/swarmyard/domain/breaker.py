"""A circuit breaker per provider, so a dead provider is skipped at once.

closed --N consecutive failures--> open --cool-down passes--> half-open
half-open lets one trial call through: success closes it, failure opens it
again for another cool-down. Times are monotonic seconds passed in by the
caller (no clock read here), and every change is returned so the router can
report it as an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Breaker", "BreakerChange", "BreakerState"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerChange:
    provider: str
    old: BreakerState
    new: BreakerState
    reason: str


@dataclass(slots=True)
class Breaker:
    provider: str
    threshold: int = 5
    cooldown: float = 30.0
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    trial_out: bool = False  # a half-open trial call is in flight

    def allow(self, now: float) -> tuple[bool, BreakerChange | None]:
        """May a call go to this provider now? Moves open → half-open when
        the cool-down has passed (that call is the trial)."""
        if self.state is BreakerState.CLOSED:
            return True, None
        if self.state is BreakerState.OPEN:
            if now - self.opened_at < self.cooldown:
                return False, None
            change = self._to(BreakerState.HALF_OPEN, f"cool-down of {self.cooldown:g} s passed")
            self.trial_out = True
            return True, change
        if self.trial_out:  # half-open: one trial at a time
            return False, None
        self.trial_out = True
        return True, None

    def succeeded(self) -> BreakerChange | None:
        self.failures = 0
        self.trial_out = False
        if self.state is BreakerState.CLOSED:
            return None
        return self._to(BreakerState.CLOSED, "a call succeeded")

    def failed(self, now: float) -> BreakerChange | None:
        self.failures += 1
        self.trial_out = False
        if self.state is BreakerState.HALF_OPEN:
            self.opened_at = now
            return self._to(BreakerState.OPEN, "the trial call failed")
        if self.state is BreakerState.CLOSED and self.failures >= self.threshold:
            self.opened_at = now
            return self._to(BreakerState.OPEN, f"{self.failures} consecutive failures")
        return None

    def released(self) -> None:
        """A call let through ended without telling anything about the provider
        (cancelled): let the next one be the trial."""
        self.trial_out = False

    def _to(self, new: BreakerState, reason: str) -> BreakerChange:
        change = BreakerChange(self.provider, self.state, new, reason)
        self.state = new
        return change

"""What a leader lease record says, and the rules every lease adapter applies to it.

Both adapters keep, per lease name, who holds it and until when; they
differ only in where the record lives and how a change is made atomic.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Holding", "check_claim"]


@dataclass(frozen=True, slots=True)
class Holding:
    owner: str  # empty once released
    expires: float  # on the adapter's clock

    def runs(self, now: float) -> bool:
        return bool(self.owner) and now < self.expires

    def blocks(self, owner: str, now: float) -> bool:
        """Whether `owner` must wait: another owner's lease is still running."""
        return self.runs(now) and self.owner != owner


def check_claim(owner: str, ttl: float) -> None:
    if not owner:
        raise ValueError("a lease owner must not be empty")
    if ttl <= 0:
        raise ValueError(f"a lease ttl must be > 0 seconds, not {ttl}")

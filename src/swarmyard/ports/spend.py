"""Store repositories of model spending: budgets and their counters,
reservations, the ledger, price overrides, providers registered through the
API, and small per-workspace documents (routing rules).

All are scoped to the unit of work's workspace, like every repository.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ..domain import (
    Budget,
    BudgetCounter,
    BudgetScope,
    CounterKey,
    LedgerEntry,
    ModelPrice,
    ProviderSpec,
    Reservation,
    UsageGroup,
    UsageRow,
)

__all__ = [
    "BudgetRepo",
    "LedgerRepo",
    "PriceRepo",
    "ProviderRepo",
    "SettingsRepo",
    "StoredProvider",
    "UsageFilter",
]


class BudgetRepo(Protocol):
    async def list(self) -> builtins.list[Budget]: ...
    async def get(self, scope: BudgetScope, scope_id: str) -> Budget | None: ...
    async def put(self, budget: Budget) -> None:
        """Create or replace the budget of (scope, scope_id)."""
        ...

    async def delete(self, scope: BudgetScope, scope_id: str) -> None:
        """Raises NotFound when there is none."""
        ...

    async def counters(self, keys: Sequence[CounterKey]) -> dict[CounterKey, BudgetCounter]:
        """The counters of these windows. A window without a counter yet is
        reported (not stored) with `spent` = the ledger's sum for its scope and
        window and nothing reserved."""
        ...

    async def reserve(self, reservation: Reservation, limits: Mapping[CounterKey, int]) -> bool:
        """Atomically hold `reservation.amount_microusd` on every counter of
        `limits` (creating a missing counter from the ledger's sum first),
        each only while its `spent + reserved < limit` — all or nothing:
        when one refuses, nothing changes and the answer is False. On success
        the reservation is stored (with `keys` = the keys of `limits`).
        Atomic against concurrent units of work in other processes."""
        ...

    async def release(self, reservation_id: str) -> Reservation | None:
        """Drop the reservation and take its amount off its counters' `reserved`.
        None when it was already released (settled, or expired and swept)."""
        ...

    async def charge(self, entry: LedgerEntry) -> None:
        """Add the entry's cost to `spent` of every *existing* counter its call
        falls under: the workspace, its role, project and agent, in the month
        and week windows of `entry.at`. Counters created later start from the
        ledger, so nothing is lost when none exists yet."""
        ...

    async def open_reservations(self) -> builtins.list[Reservation]: ...


@dataclass(frozen=True, slots=True)
class UsageFilter:
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    role: str | None = None
    task_type: str | None = None
    provider: str | None = None
    model: str | None = None
    project_id: str | None = None
    agent_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None


class LedgerRepo(Protocol):
    async def add(self, entry: LedgerEntry) -> None: ...
    async def list(
        self, flt: UsageFilter = UsageFilter(), *, limit: int = 100
    ) -> builtins.list[LedgerEntry]:
        """Newest first."""
        ...

    async def usage(
        self, group_by: UsageGroup, flt: UsageFilter = UsageFilter(), *, limit: int = 1000
    ) -> builtins.list[UsageRow]:
        """Sums per group, most expensive first (ties by key)."""
        ...

    async def totals(self, flt: UsageFilter = UsageFilter()) -> UsageRow:
        """Sums over every matching entry (key "")."""
        ...

    async def run_costs(self, *, role: str, task_type: str, limit: int = 50) -> builtins.list[int]:
        """Total cost of each of the latest `limit` runs of this role and task
        type that made calls (newest first): the basis of cost estimates."""
        ...


class PriceRepo(Protocol):
    async def list(self) -> builtins.list[ModelPrice]: ...
    async def get(self, model_ref: str) -> ModelPrice | None: ...
    async def put(self, price: ModelPrice) -> None: ...
    async def delete(self, model_ref: str) -> None:
        """Raises NotFound when there is none."""
        ...


@dataclass(frozen=True, slots=True)
class StoredProvider:
    """A provider registered through the API. `sealed_key` is the API key
    encrypted by the secret box; the store never sees it in clear."""

    spec: ProviderSpec
    updated_at: datetime
    sealed_key: str | None = None
    updated_by: str = ""


class ProviderRepo(Protocol):
    async def list(self) -> builtins.list[StoredProvider]: ...
    async def get(self, name: str) -> StoredProvider | None: ...
    async def put(self, provider: StoredProvider) -> None:
        """Create or replace the provider of that name."""
        ...

    async def delete(self, name: str) -> None:
        """Raises NotFound when there is none."""
        ...


class SettingsRepo(Protocol):
    """Small JSON documents per workspace, by name (e.g. "routing")."""

    async def get(self, name: str) -> Any | None: ...
    async def put(self, name: str, value: Any, *, at: datetime, by: str) -> None: ...
    async def delete(self, name: str) -> bool:
        """False when there was none."""
        ...

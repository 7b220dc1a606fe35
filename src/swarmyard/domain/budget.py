"""Budgets: how much a workspace, role, project or agent may spend on models.

Money is counted in integer micro-dollars (µUSD) everywhere inside the
platform: sums stay exact and a price in USD per million tokens is exactly
µUSD per token. People speak cents, so limits are set in cents
(1 cent = 10,000 µUSD) and converted at the edge.

A budget holds a monthly and/or a weekly limit. Spending in each calendar
window (UTC month, ISO week from Monday) is kept in a *counter*, with the
worst-case cost of calls in flight held apart as *reserved*. A call is
admitted while `spent + reserved < limit`, so concurrent calls can overshoot
a limit by at most one call's reservation, never more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

__all__ = [
    "MICROUSD_PER_CENT",
    "WARN_RATIO",
    "Budget",
    "BudgetCounter",
    "BudgetPeriod",
    "BudgetScope",
    "BudgetTier",
    "CounterKey",
    "OnExceed",
    "Reservation",
    "cents_to_microusd",
    "counter_keys",
    "microusd_to_cents",
    "tier_for",
    "window_end",
    "window_start",
]

MICROUSD_PER_CENT = 10_000
# Above this share of a limit the router prefers the cheapest fitting model.
WARN_RATIO = 0.8


class BudgetScope(StrEnum):
    WORKSPACE = "workspace"
    ROLE = "role"
    PROJECT = "project"
    AGENT = "agent"


class BudgetPeriod(StrEnum):
    MONTH = "month"
    WEEK = "week"


class OnExceed(StrEnum):
    """What a call does once its budget is spent."""

    FALLBACK = "fallback"  # take the cheapest model of the chain (a free local one by default)
    REFUSE = "refuse"  # refuse the call: the run fails naming the budget


class BudgetTier(StrEnum):
    NORMAL = "normal"  # the routing rules' choice
    ECONOMY = "economy"  # above 80%: the cheapest model that still meets the task's tier
    EXCEEDED = "exceeded"  # at or past the limit: the cheapest model, or refusal


def cents_to_microusd(cents: int) -> int:
    return cents * MICROUSD_PER_CENT


def microusd_to_cents(microusd: int) -> float:
    return microusd / MICROUSD_PER_CENT


@dataclass(slots=True)
class Budget:
    workspace_id: str
    scope: BudgetScope
    scope_id: str  # "" for the workspace itself; a role name, project id or agent id
    updated_at: datetime
    monthly_limit_microusd: int | None = None
    weekly_limit_microusd: int | None = None
    on_exceed: OnExceed = OnExceed.FALLBACK
    updated_by: str = ""

    def limits(self) -> list[tuple[BudgetPeriod, int]]:
        out = []
        if self.monthly_limit_microusd is not None:
            out.append((BudgetPeriod.MONTH, self.monthly_limit_microusd))
        if self.weekly_limit_microusd is not None:
            out.append((BudgetPeriod.WEEK, self.weekly_limit_microusd))
        return out

    @property
    def label(self) -> str:
        return self.scope.value if not self.scope_id else f"{self.scope.value} {self.scope_id}"


def window_start(period: BudgetPeriod, at: datetime) -> datetime:
    """Start (UTC) of the calendar window holding `at`: the 1st of the month, or Monday."""
    at = at.astimezone(UTC)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is BudgetPeriod.MONTH:
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def window_end(period: BudgetPeriod, start: datetime) -> datetime:
    """End (UTC, exclusive) of the window beginning at `start`: the 1st of the
    next month, or a week later. `start` is a `window_start` value."""
    start = start.astimezone(UTC)
    if period is BudgetPeriod.MONTH:
        if start.month == 12:
            return start.replace(year=start.year + 1, month=1, day=1)
        return start.replace(month=start.month + 1, day=1)
    return start + timedelta(days=7)


@dataclass(frozen=True, slots=True)
class CounterKey:
    """One budget window: what is counted (scope), and when (period, start)."""

    scope: BudgetScope
    scope_id: str
    period: BudgetPeriod
    window_start: datetime


@dataclass(slots=True)
class BudgetCounter:
    key: CounterKey
    spent_microusd: int = 0
    reserved_microusd: int = 0

    @property
    def committed(self) -> int:
        return self.spent_microusd + self.reserved_microusd


def counter_keys(budget: Budget, at: datetime) -> list[tuple[CounterKey, int]]:
    """The counters a call at `at` is checked against, with each one's limit."""
    return [
        (CounterKey(budget.scope, budget.scope_id, period, window_start(period, at)), limit)
        for period, limit in budget.limits()
    ]


def tier_for(committed: int, limit: int) -> BudgetTier:
    if committed >= limit:
        return BudgetTier.EXCEEDED
    if committed >= limit * WARN_RATIO:
        return BudgetTier.ECONOMY
    return BudgetTier.NORMAL


@dataclass(slots=True)
class Reservation:
    """The worst-case cost of one model call, held on counters until it is settled.

    A reservation that is never settled (its worker died) is released when
    it expires."""

    id: str
    workspace_id: str
    amount_microusd: int
    keys: list[CounterKey]
    created_at: datetime
    expires_at: datetime
    run_id: str | None = None
    model: str = ""

"""Budgets: set, list with their current use, remove.

Limits are given in cents (what people budget in) and kept in µUSD. A
budget's status shows, per window, what is spent, what calls in flight
hold, the limit and the tier the router is in for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..domain import (
    Budget,
    BudgetCounter,
    BudgetScope,
    BudgetTier,
    NotFound,
    OnExceed,
    Problem,
    ValidationFailed,
    cents_to_microusd,
    counter_keys,
    tier_for,
)
from .deps import Deps

__all__ = ["BudgetService", "BudgetStatus", "WindowStatus"]

# A limit beyond $10M a month is a typo, not a budget.
_MAX_CENTS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class WindowStatus:
    period: str
    window_start: str
    limit_microusd: int
    spent_microusd: int
    reserved_microusd: int
    tier: BudgetTier

    @property
    def utilisation(self) -> float:
        used = self.spent_microusd + self.reserved_microusd
        return used / self.limit_microusd if self.limit_microusd else 1.0


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: Budget
    windows: list[WindowStatus]


class BudgetService:
    def __init__(self, deps: Deps, on_change: Callable[[str], None] | None = None) -> None:
        self._d = deps
        # Tells the router's cache of this process (others catch up within its TTL).
        self._changed = on_change or (lambda workspace_id: None)

    async def list(self, workspace_id: str) -> list[BudgetStatus]:
        now = self._d.clock.now()
        async with self._d.store.unit_of_work(workspace_id) as uow:
            budgets = await uow.budgets.list()
            keyed = [(b, counter_keys(b, now)) for b in budgets]
            keys = [k for _, pairs in keyed for k, _ in pairs]
            counters = await uow.budgets.counters(keys) if keys else {}
        out = []
        for budget, pairs in keyed:
            windows = []
            for key, limit in pairs:
                c = counters.get(key) or BudgetCounter(key)
                windows.append(
                    WindowStatus(
                        key.period.value,
                        key.window_start.date().isoformat(),
                        limit,
                        c.spent_microusd,
                        c.reserved_microusd,
                        tier_for(c.committed, limit),
                    )
                )
            out.append(BudgetStatus(budget, windows))
        return out

    async def put(
        self,
        workspace_id: str,
        *,
        scope: str,
        scope_id: str = "",
        monthly_cents: int | None = None,
        weekly_cents: int | None = None,
        on_exceed: str = "fallback",
        by: str = "",
    ) -> Budget:
        """Create or replace a budget. Raises ValidationFailed naming every problem."""
        budget = self._validated(
            workspace_id,
            scope=scope,
            scope_id=scope_id,
            monthly_cents=monthly_cents,
            weekly_cents=weekly_cents,
            on_exceed=on_exceed,
            by=by,
        )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            if budget.scope is BudgetScope.PROJECT:
                await uow.projects.get(budget.scope_id)  # NotFound names it
            elif budget.scope is BudgetScope.AGENT:
                await uow.agents.get(budget.scope_id)
            await uow.budgets.put(budget)
            await uow.commit()
        self._changed(workspace_id)
        return budget

    async def delete(self, workspace_id: str, *, scope: str, scope_id: str = "") -> None:
        try:
            kind = BudgetScope(scope)
        except ValueError:
            raise NotFound("budget", f"{scope} {scope_id}".strip()) from None
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.budgets.delete(kind, scope_id)
            await uow.commit()
        self._changed(workspace_id)

    def _validated(
        self,
        workspace_id: str,
        *,
        scope: str,
        scope_id: str,
        monthly_cents: int | None,
        weekly_cents: int | None,
        on_exceed: str,
        by: str,
    ) -> Budget:
        problems: list[Problem] = []
        kind = _enum(BudgetScope, scope, "scope", problems)
        policy = _enum(OnExceed, on_exceed, "on_exceed", problems)
        if kind is BudgetScope.WORKSPACE and scope_id:
            problems.append(Problem("scope_id", "a workspace budget takes no scope_id"))
        if kind is not None and kind is not BudgetScope.WORKSPACE and not scope_id:
            problems.append(Problem("scope_id", f"name the {kind.value} this budget is for"))
        if monthly_cents is None and weekly_cents is None:
            problems.append(Problem("", "give monthly_cents and/or weekly_cents"))
        for name, value in (("monthly_cents", monthly_cents), ("weekly_cents", weekly_cents)):
            if value is not None and not 0 <= value <= _MAX_CENTS:
                problems.append(Problem(name, f"must be between 0 and {_MAX_CENTS} cents"))
        if problems or kind is None or policy is None:
            raise ValidationFailed("budget", problems)
        return Budget(
            workspace_id=workspace_id,
            scope=kind,
            scope_id=scope_id,
            updated_at=self._d.clock.now(),
            monthly_limit_microusd=None
            if monthly_cents is None
            else cents_to_microusd(monthly_cents),
            weekly_limit_microusd=None if weekly_cents is None else cents_to_microusd(weekly_cents),
            on_exceed=policy,
            updated_by=by,
        )


E = TypeVar("E", BudgetScope, OnExceed)


def _enum(kind: type[E], value: str, field: str, problems: list[Problem]) -> E | None:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        problems.append(Problem(field, f"unknown value {value!r}; one of: {allowed}"))
        return None

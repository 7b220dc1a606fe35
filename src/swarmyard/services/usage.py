"""Where the money went (usage reports over the ledger) and what a task
will likely cost before it starts (estimates)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import AgentManifest, Problem, UsageGroup, UsageRow, ValidationFailed
from ..domain.routing import worst_case_microusd
from ..ports import ModelCall, UsageFilter
from .deps import Deps
from .router import ModelRouter

__all__ = ["Estimate", "UsageReport", "UsageService"]

# Without history, a run is assumed to make this many calls of this size.
_TYPICAL_CALLS = 3
_TYPICAL_PROMPT_TOKENS = 1500
_TYPICAL_OUTPUT_TOKENS = 500
_HISTORY_RUNS = 50


@dataclass(frozen=True, slots=True)
class UsageReport:
    group_by: UsageGroup
    rows: list[UsageRow]
    totals: UsageRow


@dataclass(frozen=True, slots=True)
class Estimate:
    model: str
    chain: list[str]
    tier: str
    budget: str
    reason: str
    expected_microusd: int
    low_microusd: int
    high_microusd: int
    max_per_call_microusd: int
    basis: str
    runs_seen: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "chain": self.chain,
            "tier": self.tier,
            "budget": self.budget,
            "reason": self.reason,
            "expected_usd": self.expected_microusd / 1_000_000,
            "low_usd": self.low_microusd / 1_000_000,
            "high_usd": self.high_microusd / 1_000_000,
            "max_per_call_usd": self.max_per_call_microusd / 1_000_000,
            "basis": self.basis,
            "runs_seen": self.runs_seen,
        }


class UsageService:
    def __init__(self, deps: Deps, router: ModelRouter) -> None:
        self._d = deps
        self._router = router

    async def report(
        self,
        workspace_id: str,
        group_by: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        role: str | None = None,
        task_type: str | None = None,
        provider: str | None = None,
        project_id: str | None = None,
        limit: int = 100,
    ) -> UsageReport:
        try:
            group = UsageGroup(group_by)
        except ValueError:
            allowed = ", ".join(g.value for g in UsageGroup)
            raise ValidationFailed(
                "usage query",
                [Problem("group_by", f"unknown grouping {group_by!r}; one of: {allowed}")],
            ) from None
        if since is not None and until is not None and since >= until:
            raise ValidationFailed("usage query", [Problem("since", "must be before 'until'")])
        flt = UsageFilter(
            since=since,
            until=until,
            role=role,
            task_type=task_type,
            provider=provider,
            project_id=project_id,
        )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            rows = await uow.ledger.usage(group, flt, limit=limit)
            totals = await uow.ledger.totals(flt)
        return UsageReport(group, rows, totals)

    async def estimate(
        self,
        workspace_id: str,
        *,
        manifest: AgentManifest,
        role: str,
        task_type: str,
        complexity: str,
        project_id: str | None = None,
        agent_id: str | None = None,
    ) -> Estimate:
        """The router's choice for such a task now, and its likely cost: the
        spread of past runs of this role and task type, else model prices."""
        call = ModelCall(
            messages=[],
            tools=[],
            role=role,
            task_type=task_type,
            complexity=complexity,
            workspace_id=workspace_id,
            project_id=project_id,
            agent_id=agent_id,
            model_tier=manifest.model.tier.value,
            preferred_models=list(manifest.model.preferred),
        )
        decision, chain = await self._router.preview(call)
        first = chain[0]
        async with self._d.store.unit_of_work(workspace_id) as uow:
            history = await uow.ledger.run_costs(
                role=role, task_type=task_type, limit=_HISTORY_RUNS
            )
        typical = _TYPICAL_CALLS * worst_case_microusd(
            first, _TYPICAL_PROMPT_TOKENS, _TYPICAL_OUTPUT_TOKENS
        )
        if history:
            ordered = sorted(history)
            expected = int(statistics.median(ordered))
            low, high = ordered[len(ordered) // 10], ordered[(len(ordered) * 9) // 10]
            basis = f"the last {len(history)} {role} runs of {task_type} tasks"
        else:
            expected = low = high = typical
            basis = (
                f"{first.ref} prices for about {_TYPICAL_CALLS} calls of "
                f"{_TYPICAL_PROMPT_TOKENS} prompt and {_TYPICAL_OUTPUT_TOKENS} output tokens "
                "(no past runs of this kind yet)"
            )
        return Estimate(
            model=first.ref,
            chain=[c.ref for c in chain],
            tier=str(decision["tier"]),
            budget=str(decision["budget"]),
            reason=str(decision["reason"]),
            expected_microusd=expected,
            low_microusd=low,
            high_microusd=high,
            max_per_call_microusd=worst_case_microusd(
                first, _TYPICAL_PROMPT_TOKENS, first.max_output_tokens
            ),
            basis=basis,
            runs_seen=len(history),
        )

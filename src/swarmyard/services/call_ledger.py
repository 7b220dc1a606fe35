"""What a routed model call holds and costs: the budgets that apply to it,
the worst case reserved before it, and the real cost settled after it.

The router (`router.py`) decides and calls; this keeps its books, under
the run, role and agent that pay (`ModelCall.ledger_role`: a consultation
is paid by the asking run, not by the role answering it). Each
method is one transaction: a reservation is granted or refused atomically
on every applicable counter; a settlement writes the ledger entry, charges
the counters and releases the reservation together, so the ledger and the
budgets never disagree; a failed attempt is a ledger entry at cost zero.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..domain import Budget, BudgetScope, CounterKey, LedgerEntry, Reservation
from ..domain.routing import Candidate
from ..ports import ModelCall, PriceTable
from .deps import Deps
from .model_directory import ModelSource

if TYPE_CHECKING:
    from .router import Routed

__all__ = ["CallLedger", "PricedUsage", "applies", "prompt_token_bound"]

# Tokens a message part may add beyond its text (role markers, separators).
_PART_OVERHEAD = 8


@dataclass(frozen=True, slots=True)
class PricedUsage:
    tokens: tuple[int, int, int]  # in, out, cached — as the provider reported them
    cost: int  # µUSD


class CallLedger:
    def __init__(self, deps: Deps, prices: PriceTable, *, reservation_ttl: float) -> None:
        self._d = deps
        self._table = prices
        self._ttl = timedelta(seconds=reservation_ttl)

    async def reserve(
        self, call: ModelCall, limits: dict[CounterKey, int], amount: int, model_ref: str
    ) -> Reservation | bool:
        """The reservation made (True when none is needed; False when refused)."""
        if not limits or amount <= 0:
            return True
        now = self._d.clock.now()
        reservation = Reservation(
            id=self._d.ids.new("rsv"),
            workspace_id=call.workspace_id,
            amount_microusd=amount,
            keys=list(limits),
            created_at=now,
            expires_at=now + self._ttl,
            run_id=call.run_id or None,
            model=model_ref,
        )
        async with self._d.store.unit_of_work(call.workspace_id) as uow:
            granted = await uow.budgets.reserve(reservation, limits)
            await uow.commit()
        return reservation if granted else False

    async def release(self, workspace_id: str, reservation_id: str) -> None:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.budgets.release(reservation_id)
            await uow.commit()

    def priced_usage(self, response: Any, cand: Candidate, src: ModelSource) -> PricedUsage:
        """The usage a response reports, and its cost: the public table's exact
        (tier-aware) price for publicly priced models, else the candidate's."""
        usage = response.usage
        tokens_in = int(usage.input_tokens or 0)
        tokens_out = int(usage.output_tokens or 0)
        cached = int(getattr(usage, "cache_read_tokens", 0) or 0)
        cost = None
        if src.price_source == "public":
            cost = self._table.cost_microusd(
                src.provider.kind.value,
                cand.model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                tokens_cached=cached,
            )
        if cost is None:
            cost = _priced(cand, tokens_in, tokens_out, cached)
        return PricedUsage((tokens_in, tokens_out, cached), cost)

    async def settle(self, call: ModelCall, routed: Routed, held: Reservation | None) -> None:
        entry = self._entry(call, routed.candidate, routed.reason)
        entry.tokens_in, entry.tokens_out = routed.tokens_in, routed.tokens_out
        entry.tokens_cached, entry.cost_microusd = routed.tokens_cached, routed.cost_microusd
        entry.latency_ms = routed.latency_ms
        async with self._d.store.unit_of_work(call.workspace_id) as uow:
            await uow.ledger.add(entry)
            await uow.budgets.charge(entry)
            if held is not None:
                await uow.budgets.release(held.id)
            await uow.commit()

    async def record_failure(
        self, call: ModelCall, cand: Candidate, reason: str, error: str, latency: float
    ) -> None:
        entry = self._entry(call, cand, reason)
        entry.ok, entry.error, entry.latency_ms = False, error[:500], round(latency, 3)
        async with self._d.store.unit_of_work(call.workspace_id) as uow:
            await uow.ledger.add(entry)
            await uow.commit()

    def _entry(self, call: ModelCall, cand: Candidate, reason: str) -> LedgerEntry:
        if call.booked_role:
            # The row names the paying run's role: say who answered in its stead.
            reason = f"the {call.role} answering the {call.booked_role}: {reason}"
        return LedgerEntry(
            id=self._d.ids.new("led"),
            workspace_id=call.workspace_id,
            at=self._d.clock.now(),
            provider=cand.provider,
            model=cand.model,
            run_id=call.run_id or None,
            task_id=call.task_id or None,
            agent_id=call.agent_id,
            project_id=call.project_id,
            role=call.ledger_role,
            task_type=call.task_type,
            reason=reason[:500],
        )


def applies(budget: Budget, call: ModelCall) -> bool:
    """Whether the call's spending counts against this budget."""
    match budget.scope:
        case BudgetScope.WORKSPACE:
            return True
        case BudgetScope.ROLE:
            return budget.scope_id == call.ledger_role
        case BudgetScope.PROJECT:
            return call.project_id is not None and budget.scope_id == call.project_id
        case BudgetScope.AGENT:
            return call.agent_id is not None and budget.scope_id == call.agent_id
    return False  # pragma: no cover


def _priced(cand: Candidate, tokens_in: int, tokens_out: int, cached: int) -> int:
    cached = min(cached, tokens_in)
    exact = (
        (tokens_in - cached) * cand.input_per_mtok
        + cached * cand.cached_input_per_mtok
        + tokens_out * cand.output_per_mtok
    )
    return int(exact + 0.5)  # µUSD, half up


def prompt_token_bound(call: ModelCall) -> int:
    """An upper bound of the call's prompt tokens: its bytes (a token of a
    byte-level tokenizer covers at least one byte) plus per-part overhead."""
    total = 0
    for message in call.messages:
        for part in getattr(message, "parts", ()):
            total += _PART_OVERHEAD + _size(getattr(part, "content", None))
            total += _size(getattr(part, "args", None))
    for tool in call.tools:
        total += _PART_OVERHEAD + len(tool.name) + len(tool.description.encode())
        total += len(json.dumps(tool.parameters))
    return total


def _size(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, Mapping | list):
        return len(json.dumps(value, default=str).encode())
    return len(str(value).encode())

"""The model router: for each model call, which model, within which budget,
and what to do when a provider fails (ARCHITECTURE.md §4.3).

1. **Decide.** The routing rules name the tier the call needs; the fallback
   chain orders every configured model for it (`domain.routing`); the
   budgets that apply (workspace, role, project, agent) reorder it: above
   80% the cheapest model meeting the tier goes first, past the limit only
   the cheapest remain — or the call is refused when the budget says so.
2. **Reserve.** Before a call, its worst-case cost (every prompt token at the
   full price plus the whole output cap) is held on each budget counter,
   atomically and only while `spent + reserved < limit`: concurrent calls
   overshoot a limit by one reservation at most.
3. **Call.** Timeouts, 429, 5xx and connection errors are retried with
   exponential backoff and jitter (a longer Retry-After is honoured, one
   beyond `max_retry_wait_seconds` moves on); then the next model. A circuit
   breaker per provider skips a dead one without waiting.
4. **Settle** (`call_ledger.py` keeps the books). The real cost, from the
   usage the provider reports and the model's price, goes to the ledger and
   the counters and the reservation is released, in one transaction. A
   failed attempt is a ledger entry too (cost zero), so failures count per
   provider.

Every decision, retry, fallback and breaker change is reported as a
`RouteNote` (the agent loop stores them as `routing` run events), in the
order they happen. Streaming goes through the same path: text deltas are
passed on as they come, and a stream that breaks after it started is
announced with `Restart` before the next attempt starts over.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import AsyncGenerator, Callable, Coroutine
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from ..domain import (
    Budget,
    BudgetTier,
    Complexity,
    CounterKey,
    ModelTier,
    OnExceed,
    Reservation,
    counter_keys,
    microusd_to_cents,
    tier_for,
)
from ..domain.breaker import Breaker, BreakerChange
from ..domain.routing import (
    Candidate,
    Route,
    RouterOptions,
    apply_budget,
    worst_cases,
)
from ..ports import (
    ModelCall,
    ModelClient,
    ModelClientFactory,
    ModelError,
    ModelUnavailable,
    PriceTable,
)
from .call_ledger import CallLedger, applies, prompt_token_bound
from .deps import Deps
from .model_directory import ModelDirectory, ModelSource, Snapshot

__all__ = [
    "BudgetRefused",
    "ModelRouter",
    "Restart",
    "RouteNote",
    "Routed",
    "RoutingFailed",
]

_TIER_ORDER = {BudgetTier.NORMAL: 0, BudgetTier.ECONOMY: 1, BudgetTier.EXCEEDED: 2}


@dataclass(frozen=True, slots=True)
class RouteNote:
    """One routing event: `payload["action"]` is route, retry, fallback, skip,
    breaker or refused, and `payload["reason"]` says why."""

    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Restart:
    """A stream broke after it had started: drop the text received so far."""

    reason: str


@dataclass(slots=True)
class Routed:
    response: Any  # pydantic-ai ModelResponse
    candidate: Candidate
    cost_microusd: int
    latency_ms: float
    reason: str
    tokens_in: int
    tokens_out: int
    tokens_cached: int


class RoutingFailed(Exception):
    """No model could serve the call; the message says what each one answered."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BudgetRefused(RoutingFailed):
    """A budget is spent and its policy refuses further calls."""


StreamItem = str | RouteNote | Restart | Routed


@dataclass(slots=True)
class _Plan:
    snapshot: Snapshot
    route: Route
    chain: list[Candidate]
    costs: dict[str, int]
    limits: dict[CounterKey, int]
    budget_tier: BudgetTier
    reason: str
    refused: str | None = None
    utilisation: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class _Try:
    """One candidate's turn in a routed call."""

    call: ModelCall
    plan: _Plan
    cand: Candidate
    src: ModelSource
    stream: bool
    reason: str
    outcome: str = "failed"
    retry_in: float | None = None
    breaker: Breaker = field(default_factory=lambda: Breaker(""))


class ModelRouter:
    def __init__(
        self,
        deps: Deps,
        directory: ModelDirectory,
        factory: ModelClientFactory,
        prices: PriceTable,
        options: RouterOptions | None = None,
        *,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._d = deps
        self._dir = directory
        self._factory = factory
        self._opt = options or RouterOptions()
        self._ledger = CallLedger(deps, prices, reservation_ttl=self._opt.reservation_ttl_seconds)
        self._sleep = sleep
        self._rand = rand
        self._mono = monotonic
        self._breakers: dict[str, Breaker] = {}

    @property
    def directory(self) -> ModelDirectory:
        return self._dir

    async def complete(self, call: ModelCall, notes: list[RouteNote] | None = None) -> Routed:
        """One model turn through the router. Notes are appended to `notes` as
        they happen (so a caller keeps them even when the call fails)."""
        async with aclosing(self.run(call, stream=False)) as items:
            async for item in items:
                if isinstance(item, Routed):
                    return item
                if isinstance(item, RouteNote) and notes is not None:
                    notes.append(item)
        raise RoutingFailed("the router ended without an answer")  # pragma: no cover

    async def run(self, call: ModelCall, *, stream: bool) -> AsyncGenerator[StreamItem, None]:
        """The routed call as a stream of items (see the module doc); the last
        is `Routed`. Raises `RoutingFailed` when no model could serve it.
        Close it with `contextlib.aclosing` so a cancelled call releases its
        reservation at once."""
        plan = await self._plan(call)
        yield RouteNote(self._decision(plan))
        if plan.refused is not None:
            raise BudgetRefused(plan.refused)
        failures: list[str] = []
        for position, cand in enumerate(plan.chain):
            reason = plan.reason
            if position:
                reason += f"; fallback #{position} (earlier models failed)"
            t = _Try(call, plan, cand, plan.snapshot.sources[cand.ref], stream, reason)
            async with aclosing(self._try_candidate(t)) as items:
                async for item in items:
                    yield item
                    if isinstance(item, Routed):
                        return
            failures.append(f"{cand.ref}: {t.outcome}")
            if position + 1 < len(plan.chain):
                nxt = plan.chain[position + 1].ref
                yield RouteNote(
                    {
                        "action": "fallback",
                        "from": cand.ref,
                        "to": nxt,
                        "reason": f"{cand.ref} failed ({t.outcome}); trying {nxt}",
                    }
                )
        raise RoutingFailed("no model could serve the call: " + "; ".join(failures))

    async def preview(self, call: ModelCall) -> tuple[dict[str, Any], list[Candidate]]:
        """The decision the router would make for this call now (no call made):
        the `route` note's payload and the ordered chain."""
        plan = await self._plan(call)
        return self._decision(plan), plan.chain

    # ------------------------------------------------------------------ decision

    async def _plan(self, call: ModelCall) -> _Plan:
        snap = await self._dir.snapshot(call.workspace_id)
        route = snap.rules.route(
            role=call.role,
            task_type=call.task_type,
            complexity=_complexity(call.complexity),
            role_tier=_tier(call.model_tier),
            role_preferred=call.preferred_models,
        )
        chain = snap.chain(route)
        if not chain:
            raise RoutingFailed(
                "no model is configured: add a provider to swarmyard.toml or through "
                "/api/v1/providers, or turn the offline fallback back on"
            )
        prompt = prompt_token_bound(call)
        costs = worst_cases(chain, prompt, call.max_tokens or None)
        plan = _Plan(snap, route, chain, costs, {}, BudgetTier.NORMAL, route.reason)
        await self._apply_budgets(call, plan)
        return plan

    async def _apply_budgets(self, call: ModelCall, plan: _Plan) -> None:
        now = self._d.clock.now()
        owners: dict[CounterKey, Budget] = {}
        for budget in plan.snapshot.budgets:
            if applies(budget, call):
                for key, limit in counter_keys(budget, now):
                    plan.limits[key] = limit
                    owners[key] = budget
        if not plan.limits:
            return
        async with self._d.store.unit_of_work(call.workspace_id) as uow:
            counters = await uow.budgets.counters(list(plan.limits))
        worst = BudgetTier.NORMAL
        refusing: list[str] = []
        for key, limit in plan.limits.items():
            committed = counters[key].committed if key in counters else 0
            tier = tier_for(committed, limit)
            label = f"{owners[key].label} ({key.period.value})"
            plan.utilisation[label] = round(committed / limit, 4) if limit else 1.0
            if _TIER_ORDER[tier] > _TIER_ORDER[worst]:
                worst = tier
            if tier is BudgetTier.EXCEEDED and owners[key].on_exceed is OnExceed.REFUSE:
                refusing.append(
                    f"the {label} budget of ${microusd_to_cents(limit) / 100:.2f} is spent "
                    f"(${microusd_to_cents(committed) / 100:.2f} used or held) and refuses "
                    "further calls"
                )
        plan.budget_tier = worst
        if refusing:
            plan.refused = "; ".join(refusing)
            return
        plan.chain, why = apply_budget(plan.chain, worst, plan.route.tier, plan.costs)
        if why:
            plan.reason = f"{plan.reason}; {why}"

    def _decision(self, plan: _Plan) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "action": "refused" if plan.refused else "route",
            "model": plan.chain[0].ref,
            "chain": [c.ref for c in plan.chain],
            "tier": plan.route.tier.value,
            "budget": plan.budget_tier.value,
            "reason": plan.refused or plan.reason,
            "max_cost_usd": plan.costs[plan.chain[0].ref] / 1_000_000,
        }
        if plan.utilisation:
            payload["utilisation"] = plan.utilisation
        return payload

    # ------------------------------------------------------------------ calling

    async def _try_candidate(self, t: _Try) -> AsyncGenerator[StreamItem, None]:
        """Every attempt at one candidate. On failure `t.outcome` holds the
        last reason and the generator ends without `Routed`."""
        notes: list[RouteNote] = []
        opened = await self._open(t, notes)
        for note in notes:
            yield note
        if opened is None:
            return
        client, held = opened
        t.call = dataclasses.replace(
            t.call,
            max_tokens=self._max_out(t.call, t.cand),
            # A model that answers in text only would spend its small context
            # window on tool definitions it cannot use.
            tools=t.call.tools if t.cand.tool_calls else [],
        )
        settled = False
        try:
            for attempt in range(1, t.src.provider.max_retries + 2):
                async with aclosing(self._attempt(t, client, attempt)) as items:
                    async for item in items:
                        if isinstance(item, Routed):
                            await self._ledger.settle(t.call, item, held)
                            settled = True
                        yield item
                if settled or t.retry_in is None:
                    return
                await self._sleep(t.retry_in)
                allowed, change = t.breaker.allow(self._mono())
                if change is not None:
                    yield _breaker_note(change)
                if not allowed:
                    t.outcome += " (circuit opened meanwhile)"
                    return
        except BaseException:
            t.breaker.released()
            raise
        finally:
            if held is not None and not settled:
                await asyncio.shield(self._ledger.release(t.call.workspace_id, held.id))

    async def _open(
        self, t: _Try, notes: list[RouteNote]
    ) -> tuple[ModelClient, Reservation | None] | None:
        """Admit the candidate: its breaker, its client, its reservation.
        None (with `t.outcome` saying why) when it cannot be tried."""
        t.breaker = self._breaker(t.call.workspace_id, t.src)
        allowed, change = t.breaker.allow(self._mono())
        if change is not None:
            notes.append(_breaker_note(change))
        if not allowed:
            t.outcome = f"skipped: the circuit of provider {t.src.provider.name!r} is open"
            notes.append(RouteNote({"action": "skip", "model": t.cand.ref, "reason": t.outcome}))
            return None
        try:
            client = self._factory.client(t.src.provider, t.src.model, api_key=t.src.api_key)
        except ModelError as exc:
            t.breaker.released()
            t.outcome = exc.message
            return None
        reservation = await self._ledger.reserve(
            t.call, t.plan.limits, t.plan.costs[t.cand.ref], t.cand.ref
        )
        if reservation is False:
            t.breaker.released()
            t.outcome = "the budget cannot hold this call's worst-case cost"
            return None
        return client, reservation if isinstance(reservation, Reservation) else None

    async def _attempt(
        self, t: _Try, client: ModelClient, attempt: int
    ) -> AsyncGenerator[StreamItem, None]:
        """One request: yields its text deltas (streaming) and `Routed`, or
        notes of the failure with `t.retry_in` set when another attempt may follow."""
        t.retry_in = None
        started = time.perf_counter()
        got_text = False
        try:
            if t.stream:
                response = None
                chunks = client.stream(t.call)
                try:
                    async for item in chunks:
                        if isinstance(item, str):
                            got_text = True
                            yield item
                        else:
                            response = item
                finally:
                    close = getattr(chunks, "aclose", None)
                    if close is not None:
                        await close()
                if response is None:
                    raise ModelUnavailable(
                        "the stream ended without a final response",
                        provider=t.cand.provider,
                        model=t.cand.model,
                    )
            else:
                response = await client.request(t.call)
        except Exception as raised:
            # An adapter bug (not a provider answer) fails this candidate only;
            # its text may quote request data, so only its type is kept.
            exc = (
                raised
                if isinstance(raised, ModelError)
                else ModelError(
                    f"the {t.cand.provider} client failed unexpectedly ({type(raised).__name__})",
                    provider=t.cand.provider,
                    model=t.cand.model,
                )
            )
            latency = (time.perf_counter() - started) * 1000
            async with aclosing(
                self._failed(t, exc, attempt, got_text=got_text, latency=latency)
            ) as notes:
                async for note in notes:
                    yield note
            return
        latency = (time.perf_counter() - started) * 1000
        change = t.breaker.succeeded()
        if change is not None:
            yield _breaker_note(change)
        usage = self._ledger.priced_usage(response, t.cand, t.src)
        yield Routed(response, t.cand, usage.cost, round(latency, 3), t.reason, *usage.tokens)

    async def _failed(
        self, t: _Try, exc: ModelError, attempt: int, *, got_text: bool, latency: float
    ) -> AsyncGenerator[StreamItem, None]:
        """Account for a failed attempt and decide whether another one follows."""
        change = None
        if _counts(exc):
            change = t.breaker.failed(self._mono())
        else:
            t.breaker.released()
        await self._ledger.record_failure(t.call, t.cand, t.reason, exc.message, latency)
        if change is not None:
            yield _breaker_note(change)
        if got_text:
            yield Restart(f"{t.cand.ref} broke off mid-stream: {exc.message}")
        t.outcome = exc.message
        delay = self._retry_delay(exc, attempt, t.src.provider.max_retries + 1, t.breaker)
        if isinstance(delay, str):
            if delay:
                t.outcome = f"{exc.message} ({delay})"
            return
        t.retry_in = delay
        yield RouteNote(
            {
                "action": "retry",
                "model": t.cand.ref,
                "attempt": attempt + 1,
                "delay_seconds": round(delay, 3),
                "reason": exc.message,
            }
        )

    def _retry_delay(
        self, exc: ModelError, attempt: int, attempts: int, breaker: Breaker
    ) -> float | str:
        """Seconds to wait before the next attempt, or why there is none
        ('' when the error is simply not worth retrying)."""
        if not exc.retryable or attempt >= attempts:
            return ""
        if breaker.state.value != "closed":
            return "circuit opened"
        if exc.retry_after is not None and exc.retry_after > self._opt.max_retry_wait_seconds:
            return (
                f"Retry-After {exc.retry_after:g} s is longer than the "
                f"{self._opt.max_retry_wait_seconds:g} s the router waits"
            )
        base, cap = self._opt.backoff_base_seconds, self._opt.backoff_max_seconds
        step = min(cap, base * 2.0 ** (attempt - 1))
        delay = step / 2 + self._rand() * step / 2  # exponential, with jitter
        return max(delay, float(exc.retry_after or 0.0))

    def _breaker(self, workspace_id: str, src: ModelSource) -> Breaker:
        # A provider registered through the API belongs to one workspace.
        key = src.provider.name if src.origin != "api" else f"{workspace_id}/{src.provider.name}"
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = Breaker(
                src.provider.name,
                threshold=self._opt.breaker_threshold,
                cooldown=self._opt.breaker_cooldown_seconds,
            )
            self._breakers[key] = breaker
        return breaker

    def breaker_states(self) -> dict[str, str]:
        return {key: b.state.value for key, b in self._breakers.items()}

    @staticmethod
    def _max_out(call: ModelCall, cand: Candidate) -> int:
        return min(call.max_tokens or cand.max_output_tokens, cand.max_output_tokens)


def _counts(exc: ModelError) -> bool:
    """Whether a failure says something about the provider's health (not
    about this one request): unavailability, throttling, refused credentials."""
    return exc.retryable or exc.status_code in (401, 403)


def _breaker_note(change: BreakerChange) -> RouteNote:
    return RouteNote(
        {
            "action": "breaker",
            "provider": change.provider,
            "from": change.old.value,
            "to": change.new.value,
            "reason": change.reason,
        }
    )


def _complexity(value: str) -> Complexity | None:
    try:
        return Complexity(value)
    except ValueError:
        return None


def _tier(value: str) -> ModelTier:
    try:
        return ModelTier(value)
    except ValueError:
        return ModelTier.MID

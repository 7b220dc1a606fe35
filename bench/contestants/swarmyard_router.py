"""Scenario S4: how long the model router takes to decide, with no network
(`python bench/contestants/swarmyard_router.py S4`, or through `bench/run.py`).

Two figures per chain size (2, 10 and 100 candidate models), budgets on:
- the decision itself (routing rules → fallback chain → worst-case cost of
  every candidate → budget tier reordering), pure functions over the
  workspace's directory snapshot, as the router makes it (the route memoised
  by the frozen rules, each tier's chain order sorted once per snapshot);
- `ModelRouter.preview`, the whole decision as a model call makes it: the
  workspace's cached snapshot, the budgets and their counters read from the
  in-memory store (one unit of work), then the same decision.

Best of `rounds` rounds of `seconds` each within one process (other load
only ever slows a round); the suite takes the median over its repeats.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import contestant_main, emit, versions
from pydantic_ai.messages import ModelRequest, UserPromptPart

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.llm.prices import GenaiPriceTable
from swarmyard.adapters.security import FernetSecretBox
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import (
    Budget,
    BudgetScope,
    BudgetTier,
    Complexity,
    FakeClock,
    LedgerEntry,
    ModelSpec,
    ModelTier,
    PriceSpec,
    ProviderKind,
    ProviderSpec,
    SequentialIds,
    Workspace,
)
from swarmyard.domain.routing import apply_budget, worst_cases
from swarmyard.ports import ModelCall
from swarmyard.services.call_ledger import prompt_token_bound
from swarmyard.services.deps import Deps
from swarmyard.services.model_directory import ModelDirectory
from swarmyard.services.router import ModelRouter

WS = "bench"
TIERS = (ModelTier.FAST, ModelTier.MID, ModelTier.PREMIUM)


def providers(count: int) -> list[ProviderSpec]:
    """`count` models over providers of 5 models each, tiers and prices spread."""
    out = []
    for p in range(0, count, 5):
        out.append(
            ProviderSpec(
                name=f"p{p // 5}",
                kind=ProviderKind.OPENAI_COMPATIBLE,
                base_url=f"https://p{p // 5}.example/v1",
                models=[
                    ModelSpec(
                        name=f"m{i}",
                        tier=TIERS[i % 3],
                        max_output_tokens=2048,
                        price=PriceSpec(
                            input_per_mtok=0.1 * (i + 1), output_per_mtok=0.4 * (i + 1)
                        ),
                    )
                    for i in range(p, min(p + 5, count))
                ],
            )
        )
    return out


def call() -> ModelCall:
    return ModelCall(
        messages=[ModelRequest(parts=[UserPromptPart("Fix the failing login test. " * 40)])],
        tools=[],
        role="developer",
        run_id="run_1",
        task_id="task_1",
        task_type="bugfix",
        complexity="medium",
        workspace_id=WS,
        model_tier="mid",
    )


def best_rate(label: str, fn: Callable[[], object], rounds: int, seconds: float) -> float:
    for _ in range(100):
        fn()
    best = 0.0
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(50):
                fn()
            count += 50
        best = max(best, count / elapsed)
    print(f"{label:<58} {1e6 / best:9.1f} µs/decision", file=sys.stderr)
    return 1e6 / best


async def best_rate_async(
    label: str, fn: Callable[[], Awaitable[object]], rounds: int, seconds: float
) -> float:
    for _ in range(100):
        await fn()
    best = 0.0
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(50):
                await fn()
            count += 50
        best = max(best, count / elapsed)
    print(f"{label:<58} {1e6 / best:9.1f} µs/decision", file=sys.stderr)
    return 1e6 / best


async def router_for(count: int) -> ModelRouter:
    clock = FakeClock(datetime(2026, 11, 18, tzinfo=UTC))
    store = MemoryStore()
    await store.migrate()
    await store.add_workspace(Workspace(WS, "Bench", clock.now()))
    deps = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
    async with store.unit_of_work(WS) as uow:
        # A role budget and a workspace budget, 85% spent: the economy tier reorders.
        await uow.budgets.put(
            Budget(WS, BudgetScope.ROLE, "developer", clock.now(), monthly_limit_microusd=1_000_000)
        )
        await uow.budgets.put(
            Budget(WS, BudgetScope.WORKSPACE, "", clock.now(), weekly_limit_microusd=5_000_000)
        )
        await uow.ledger.add(
            LedgerEntry(
                id="led_1",
                workspace_id=WS,
                at=clock.now(),
                provider="p0",
                model="m0",
                cost_microusd=850_000,
                role="developer",
            )
        )
        await uow.commit()
    directory = ModelDirectory(
        deps,
        file_providers=providers(count),
        file_prices={},
        file_rules=None,
        prices=GenaiPriceTable(),
        secrets=FernetSecretBox(b"bench"),
    )
    return ModelRouter(deps, directory, factory=None, prices=GenaiPriceTable())  # type: ignore[arg-type]


async def s4(params: dict[str, Any]) -> None:
    rounds, seconds = int(params.get("rounds", 5)), float(params.get("seconds", 0.3))
    the_call = call()
    metrics: dict[str, Any] = {"prompt_bound_tokens": prompt_token_bound(the_call)}
    for count in (2, 10, 100):
        router = await router_for(count)
        snap = await router.directory.snapshot(WS)
        assert len(snap.candidates) == count + 1  # + the offline model

        def decide(snap: Any = snap) -> object:
            # As `ModelRouter._plan` decides: the snapshot's rules and chain orders.
            route = snap.rules.route(
                role="developer",
                task_type="bugfix",
                complexity=Complexity.MEDIUM,
                role_tier=ModelTier.MID,
            )
            chain = snap.chain(route)
            bound = prompt_token_bound(the_call)
            costs = worst_cases(chain, bound, None)
            return apply_budget(chain, BudgetTier.ECONOMY, route.tier, costs)

        metrics[f"decision_us_{count}"] = best_rate(
            f"{count:>3} candidates: decision (pure)", decide, rounds, seconds
        )
        metrics[f"preview_us_{count}"] = await best_rate_async(
            f"{count:>3} candidates: preview (snapshot + budgets read + decision)",
            lambda r=router: r.preview(the_call),
            rounds,
            seconds,
        )
    emit(
        metrics,
        versions=versions("swarmyard", "pydantic-ai-slim", "genai-prices"),
        notes=[
            "decision: rules → fallback chain → worst-case cost per candidate → budget tier",
            "preview: the same as a model call makes it, with the workspace snapshot and "
            "budget counters read from the in-memory store",
        ],
    )


if __name__ == "__main__":
    contestant_main({"S4": lambda p: asyncio.run(s4(p))})

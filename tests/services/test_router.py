"""The model router on in-memory adapters: decisions, budget tiers, the
ledger, retries with backoff, fallback, the breaker and streaming."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import pytest

from swarmyard.domain import (
    Budget,
    BudgetScope,
    LedgerEntry,
    ModelSpec,
    ModelTier,
    OnExceed,
    PriceSpec,
    ProviderKind,
    ProviderSpec,
)
from swarmyard.domain.routing import RouterOptions, RoutingRules
from swarmyard.ports import ModelRateLimited, ModelRequestRejected, ModelUnavailable, UsageFilter
from swarmyard.services.call_ledger import prompt_token_bound
from swarmyard.services.router import (
    BudgetRefused,
    Restart,
    Routed,
    RouteNote,
    RoutingFailed,
)

WS = "default"
FAST, MID, PREMIUM = ModelTier.FAST, ModelTier.MID, ModelTier.PREMIUM
MakeRouter = Callable[..., Any]


def provider(
    name: str, *models: tuple[str, ModelTier, float, float], local: bool = False
) -> ProviderSpec:
    """A provider whose models are (name, tier, input $/Mtok, output $/Mtok)."""
    return ProviderSpec(
        name=name,
        kind=ProviderKind.OPENAI_COMPATIBLE,
        base_url=f"https://{name}.example/v1",
        local=local,
        max_retries=2,
        models=[
            ModelSpec(
                name=m,
                tier=tier,
                max_output_tokens=1000,
                price=PriceSpec(input_per_mtok=pin, output_per_mtok=pout),
            )
            for m, tier, pin, pout in models
        ],
    )


def team() -> list[ProviderSpec]:
    return [
        provider(
            "cloud", ("big", PREMIUM, 10.0, 30.0), ("mid", MID, 2.0, 8.0), ("small", FAST, 0.5, 1.5)
        ),
        provider("other", ("mid-cheap", MID, 0.2, 0.8)),
        provider("local", ("llama", FAST, 0.0, 0.0), local=True),
    ]


async def routed(kit: Any, call: Any) -> tuple[Routed, list[dict[str, Any]]]:
    notes: list[RouteNote] = []
    result = await kit.router.complete(call, notes)
    return result, [n.payload for n in notes]


async def spend(kit: Any, microusd: int, role: str = "developer") -> None:
    """Past spending, as the ledger holds it."""
    async with kit.store.unit_of_work(WS) as uow:
        await uow.ledger.add(
            LedgerEntry(
                id=kit.deps.ids.new("led"),
                workspace_id=WS,
                at=kit.clock.now(),
                provider="cloud",
                model="mid",
                cost_microusd=microusd,
                role=role,
            )
        )
        await uow.commit()


async def budget(kit: Any, cents: int, *, policy: OnExceed = OnExceed.FALLBACK) -> None:
    async with kit.store.unit_of_work(WS) as uow:
        await uow.budgets.put(
            Budget(
                WS,
                BudgetScope.ROLE,
                "developer",
                kit.clock.now(),
                monthly_limit_microusd=cents * 10_000,
                on_exceed=policy,
            )
        )
        await uow.commit()


async def test_the_chain_starts_at_the_needed_tier_then_steps_down_then_up(
    make_router: MakeRouter,
) -> None:
    kit = await make_router(team())
    result, notes = await routed(kit, kit.call())
    assert result.candidate.ref == "cloud:mid"
    assert notes[0]["action"] == "route"
    assert notes[0]["chain"] == [
        "cloud:mid",
        "other:mid-cheap",
        "cloud:small",
        "local:llama",
        "cloud:big",
        "offline:swarmyard-offline-1",
    ]
    assert "developer role's preference" in notes[0]["reason"]


async def test_rules_pick_the_tier_and_explicit_models_go_first(make_router: MakeRouter) -> None:
    rules = RoutingRules.model_validate(
        {
            "rules": [
                {
                    "name": "docs",
                    "when": {"task_types": ["docs"]},
                    "tier": "fast",
                    "models": ["other:mid-cheap"],
                },
                {"name": "critical", "when": {"complexity": ["critical"]}, "tier": "premium"},
            ]
        }
    )
    kit = await make_router(team(), rules=rules)
    first, notes = await routed(kit, kit.call(task_type="docs"))
    assert first.candidate.ref == "other:mid-cheap"
    assert notes[0]["chain"][1:3] == ["cloud:small", "local:llama"]
    assert "rule 'docs'" in notes[0]["reason"]
    critical, _ = await routed(kit, kit.call(complexity="critical"))
    assert critical.candidate.ref == "cloud:big"


async def test_cost_is_usage_times_price_and_lands_in_the_ledger(
    make_router: MakeRouter, answer: Any
) -> None:
    kit = await make_router(team())
    kit.factory.get("cloud:mid").script = [answer(tokens_in=1000, tokens_out=500, cached=200)]
    await budget(kit, 100)
    result, _ = await routed(kit, kit.call(agent_id="agent_1"))
    keys = await _keys(kit)
    # 800 fresh input tokens at $2/Mtok + 200 cached (no cached price: free) + 500 output at $8/Mtok
    assert result.cost_microusd == 800 * 2 + 500 * 8
    async with kit.store.unit_of_work(WS) as uow:
        (entry,) = await uow.ledger.list(UsageFilter())
        assert (entry.provider, entry.model, entry.cost_microusd) == ("cloud", "mid", 5600)
        assert (entry.tokens_in, entry.tokens_out, entry.tokens_cached) == (1000, 500, 200)
        assert (entry.role, entry.run_id, entry.agent_id, entry.ok) == (
            "developer",
            "run_1",
            "agent_1",
            True,
        )
        assert entry.reason.startswith("the developer role's preference")
        assert await uow.budgets.open_reservations() == []
        (status,) = (await uow.budgets.counters(keys)).values()
        assert (status.spent_microusd, status.reserved_microusd) == (5600, 0)


async def _keys(kit: Any) -> list[Any]:
    from swarmyard.domain import counter_keys

    async with kit.store.unit_of_work(WS) as uow:
        (b,) = await uow.budgets.list()
    return [k for k, _ in counter_keys(b, kit.clock.now())]


async def test_the_output_cap_is_sent_and_the_reservation_is_the_worst_case(
    make_router: MakeRouter,
) -> None:
    kit = await make_router(team())
    await budget(kit, 100)
    call = kit.call(max_tokens=5000, prompt="x" * 400)
    plan_note, _chain = await kit.router.preview(call)
    bound = prompt_token_bound(call)
    assert bound >= 400
    # The model caps output at 1000 tokens: the worst case uses the smaller cap.
    assert plan_note["max_cost_usd"] * 1_000_000 == pytest.approx(bound * 2.0 + 1000 * 8.0, abs=1)
    await routed(kit, call)
    assert kit.factory.get("cloud:mid").calls[0].max_tokens == 1000


@pytest.mark.parametrize(
    ("spent", "first", "tier"),
    [
        (0, "cloud:mid", "normal"),
        (850_000, "other:mid-cheap", "economy"),
        (1_000_000, "local:llama", "exceeded"),
    ],
)
async def test_budget_tiers_reorder_the_chain(
    make_router: MakeRouter, spent: int, first: str, tier: str
) -> None:
    kit = await make_router(team())
    await budget(kit, 100)  # $1.00 a month for the developer role
    await spend(kit, spent)
    await spend(kit, 10_000_000, role="tester")  # another role's spending counts nowhere here
    result, notes = await routed(kit, kit.call())
    assert result.candidate.ref == first
    assert notes[0]["budget"] == tier
    if tier == "exceeded":
        assert notes[0]["chain"] == ["local:llama", "offline:swarmyard-offline-1"]
        assert "budget exceeded" in notes[0]["reason"]


async def test_a_refusing_budget_refuses_the_call(make_router: MakeRouter) -> None:
    kit = await make_router(team())
    await budget(kit, 100, policy=OnExceed.REFUSE)
    await spend(kit, 1_000_000)
    notes: list[RouteNote] = []
    with pytest.raises(BudgetRefused, match=r"role developer \(month\) budget of \$1.00 is spent"):
        await kit.router.complete(kit.call(), notes)
    assert notes[0].payload["action"] == "refused"
    assert all(not c.calls for c in kit.factory.clients.values())


async def test_retries_back_off_with_jitter_and_honour_retry_after(
    make_router: MakeRouter, answer: Any
) -> None:
    kit = await make_router(team())
    kit.factory.get("cloud:mid").script = [
        ModelUnavailable("HTTP 503", retryable=True),
        ModelRateLimited("HTTP 429", retry_after=3.0),
        answer(),
    ]
    result, notes = await routed(kit, kit.call())
    assert result.candidate.ref == "cloud:mid"
    # base 0.5 s, doubling; jitter draws 0.5 -> 3/4 of the step; Retry-After 3 s wins over 0.75 s.
    assert kit.sleeps == [0.375, 3.0]
    assert [n["action"] for n in notes] == ["route", "retry", "retry"]
    assert notes[2]["reason"] == "HTTP 429"
    async with kit.store.unit_of_work(WS) as uow:
        usage = await uow.ledger.totals(UsageFilter())
    assert (usage.calls, usage.failed_calls) == (3, 2)


async def test_a_long_retry_after_moves_to_the_next_model(make_router: MakeRouter) -> None:
    kit = await make_router(team(), options=RouterOptions(max_retry_wait_seconds=10))
    kit.factory.get("cloud:mid").script = [ModelRateLimited("HTTP 429", retry_after=60.0)]
    result, notes = await routed(kit, kit.call())
    assert result.candidate.ref == "other:mid-cheap"
    assert kit.sleeps == []
    fallback = notes[1]
    assert fallback["action"] == "fallback"
    assert "Retry-After 60 s is longer than the 10 s" in fallback["reason"]
    assert "fallback #1" in result.reason


async def test_a_rejected_request_is_not_retried_but_falls_back(make_router: MakeRouter) -> None:
    kit = await make_router(team())
    kit.factory.get("cloud:mid").script = [
        ModelRequestRejected("HTTP 400, context window exceeded", status_code=400)
    ]
    result, _ = await routed(kit, kit.call())
    assert result.candidate.ref == "other:mid-cheap"
    assert len(kit.factory.get("cloud:mid").calls) == 1


async def test_when_every_model_fails_the_error_names_each(make_router: MakeRouter) -> None:
    kit = await make_router([provider("cloud", ("mid", MID, 2.0, 8.0))], offline=False)
    kit.factory.get("cloud:mid").default = lambda: (_ for _ in ()).throw(
        ModelRequestRejected("HTTP 401, credentials refused")
    )
    with pytest.raises(RoutingFailed, match="cloud:mid: HTTP 401, credentials refused"):
        await kit.router.complete(kit.call())


async def test_the_breaker_skips_a_dead_provider_then_tries_it_again(
    make_router: MakeRouter, answer: Any
) -> None:
    kit = await make_router(
        team(), options=RouterOptions(breaker_threshold=2, breaker_cooldown_seconds=30)
    )
    dead = kit.factory.get("cloud:mid")
    dead.default = lambda: (_ for _ in ()).throw(
        ModelUnavailable("connection refused", retryable=True)
    )
    first, notes = await routed(kit, kit.call())
    assert first.candidate.ref == "other:mid-cheap"
    assert len(dead.calls) == 2  # the second failure opened the circuit: no third attempt
    assert {
        "action": "breaker",
        "provider": "cloud",
        "from": "closed",
        "to": "open",
        "reason": "2 consecutive failures",
    } in notes
    second, notes = await routed(kit, kit.call())
    assert second.candidate.ref == "other:mid-cheap"
    assert len(dead.calls) == 2  # skipped without waiting
    assert notes[1]["action"] == "skip"
    kit.mono[0] += 31  # the cool-down passes: one trial call, which succeeds
    dead.default = answer
    third, notes = await routed(kit, kit.call())
    assert third.candidate.ref == "cloud:mid"
    assert [(n["from"], n["to"]) for n in notes if n["action"] == "breaker"] == [
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


async def test_a_stream_that_breaks_restarts_on_the_next_model(
    make_router: MakeRouter, answer: Any
) -> None:
    kit = await make_router(team())
    kit.factory.get("cloud:mid").script = [
        (["Hel", "lo"], ModelRequestRejected("stream reset", status_code=400))
    ]
    kit.factory.get("other:mid-cheap").script = [answer("all good")]
    items: list[Any] = []
    async with aclosing(kit.router.run(kit.call(), stream=True)) as stream:
        async for item in stream:
            items.append(item)
    text = [i for i in items if isinstance(i, str | Restart)]
    assert text[:2] == ["Hel", "lo"]
    assert isinstance(text[2], Restart)
    assert "cloud:mid broke off mid-stream" in text[2].reason
    assert text[3:] == ["all", "good"]
    final = items[-1]
    assert isinstance(final, Routed)
    assert final.candidate.ref == "other:mid-cheap"


async def test_a_cancelled_call_releases_its_reservation(make_router: MakeRouter) -> None:
    kit = await make_router(team())
    await budget(kit, 100)
    started = asyncio.Event()

    async def hang(call: Any) -> Any:
        started.set()
        await asyncio.Event().wait()

    kit.factory.get("cloud:mid").request = hang  # type: ignore[method-assign]
    task = asyncio.create_task(kit.router.complete(kit.call()))
    await started.wait()
    async with kit.store.unit_of_work(WS) as uow:
        assert len(await uow.budgets.open_reservations()) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with kit.store.unit_of_work(WS) as uow:
        assert await uow.budgets.open_reservations() == []


async def test_free_models_need_no_reservation(make_router: MakeRouter) -> None:
    kit = await make_router([provider("local", ("llama", FAST, 0.0, 0.0), local=True)])
    await budget(kit, 1)
    result, _ = await routed(kit, kit.call())
    assert result.cost_microusd == 0
    async with kit.store.unit_of_work(WS) as uow:
        assert await uow.budgets.open_reservations() == []


async def test_without_any_model_the_error_says_what_to_configure(make_router: MakeRouter) -> None:
    kit = await make_router([], offline=False)
    with pytest.raises(RoutingFailed, match="no model is configured: add a provider"):
        await kit.router.complete(kit.call())


def test_a_provider_needs_models_and_a_base_url_for_compatible_endpoints() -> None:
    with pytest.raises(ValueError, match="needs base_url"):
        ProviderSpec(name="vllm", kind=ProviderKind.OPENAI_COMPATIBLE, models=[ModelSpec(name="m")])
    with pytest.raises(ValueError, match="at least one model"):
        ProviderSpec(name="x", kind=ProviderKind.OPENAI)
    spec = ProviderSpec(
        name="box",
        kind=ProviderKind.OPENAI_COMPATIBLE,
        base_url="http://127.0.0.1:8000/v1",
        models=[ModelSpec(name="m", price=PriceSpec())],
    )
    assert spec.is_local

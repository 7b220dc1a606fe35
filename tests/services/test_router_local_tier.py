"""The free local tier in the router: a llama.cpp model ends the chains (the
offline model only after it, when asked for), is what a spent budget falls
back to, and, answering in text only, is sent no tool definitions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from swarmyard.domain import (
    Budget,
    BudgetScope,
    LedgerEntry,
    ModelSpec,
    ModelTier,
    PriceSpec,
    ProviderKind,
    ProviderSpec,
)
from swarmyard.domain.routing import Candidate, Route, build_chain
from swarmyard.ports import ModelCall, ModelUnavailable, ToolSpec
from swarmyard.services.router import RouteNote

MakeRouter = Callable[..., Any]
WS = "default"
LOCAL = "local:smollm2-135m-instruct"
OFFLINE = "offline:swarmyard-offline-1"
TOOL = ToolSpec("read_task", "Read a task.", {"type": "object", "properties": {}})


def local_tier() -> ProviderSpec:
    return ProviderSpec(
        name="local",
        kind=ProviderKind.LOCAL,
        model_file="/models/smollm2.gguf",
        models=[ModelSpec(name="smollm2-135m-instruct", tier=ModelTier.FAST, tool_calls=False)],
    )


def cloud() -> ProviderSpec:
    return ProviderSpec(
        name="cloud",
        kind=ProviderKind.OPENAI_COMPATIBLE,
        base_url="https://cloud.example/v1",
        max_retries=0,
        models=[
            ModelSpec(
                name=name, tier=tier, price=PriceSpec(input_per_mtok=1.0, output_per_mtok=2.0)
            )
            for name, tier in (("small", ModelTier.FAST), ("big", ModelTier.PREMIUM))
        ],
    )


def ollama() -> ProviderSpec:
    return ProviderSpec(
        name="ollama",
        kind=ProviderKind.OLLAMA,
        base_url="http://127.0.0.1:11434/v1",
        models=[ModelSpec(name="llama3.1", tier=ModelTier.FAST)],
    )


async def test_the_local_tier_is_the_last_step_before_the_offline_model(
    make_router: MakeRouter,
) -> None:
    kit = await make_router([local_tier(), cloud(), ollama()])
    _, chain = await kit.router.preview(kit.call(tier="mid"))
    # Lower tier first, then higher; a free model of one's own (Ollama) by its
    # tier; the platform's own local model after all of them.
    assert [c.ref for c in chain] == [
        "cloud:small",
        "ollama:llama3.1",
        "cloud:big",
        LOCAL,
        OFFLINE,
    ]
    local = next(c for c in chain if c.ref == LOCAL)
    assert (local.free, local.local, local.last_resort, local.tool_calls) == (
        True,
        True,
        True,
        False,
    )


def test_rules_can_still_put_the_local_model_first() -> None:
    local = Candidate(LOCAL, "local", "m", ModelTier.FAST, 0, 0, 0, 512, True, last_resort=True)
    paid = Candidate("cloud:small", "cloud", "small", ModelTier.FAST, 1, 2, 0, 512)
    route = Route(tier=ModelTier.FAST, preferred=(LOCAL,), reason="rule")
    assert [c.ref for c in build_chain(route, [paid, local])] == [LOCAL, "cloud:small"]


async def test_a_spent_budget_falls_back_to_the_free_models(make_router: MakeRouter) -> None:
    kit = await make_router([local_tier(), cloud()])
    now = kit.clock.now()
    async with kit.store.unit_of_work(WS) as uow:
        await uow.budgets.put(
            Budget(WS, BudgetScope.ROLE, "developer", now, monthly_limit_microusd=1_000_000)
        )
        await uow.ledger.add(
            LedgerEntry(
                id="led_1",
                workspace_id=WS,
                at=now,
                provider="cloud",
                model="small",
                cost_microusd=1_000_000,
                role="developer",
            )
        )
        await uow.commit()
    decision, chain = await kit.router.preview(kit.call())
    assert decision["budget"] == "exceeded"
    assert [c.ref for c in chain] == [LOCAL, OFFLINE]


async def test_a_model_without_tool_calls_is_sent_no_tools(make_router: MakeRouter) -> None:
    kit = await make_router([local_tier()], offline=False)
    call = dataclasses.replace(kit.call(), tools=[TOOL])

    result = await kit.router.complete(call)

    assert result.candidate.ref == LOCAL
    assert not result.candidate.tool_calls
    (sent,) = kit.factory.get(LOCAL).calls
    assert sent.tools == []
    assert call.tools == [TOOL]  # the caller's call is left as it was


async def test_the_next_model_of_the_chain_gets_the_tools_back(make_router: MakeRouter) -> None:
    kit = await make_router([local_tier()])
    kit.factory.get(LOCAL).script = [
        ModelUnavailable("the server died", provider="local", model="m", retryable=False)
    ]
    call: ModelCall = dataclasses.replace(kit.call(), tools=[TOOL])
    notes: list[RouteNote] = []

    result = await kit.router.complete(call, notes)

    assert result.candidate.ref == OFFLINE
    (offline_call,) = kit.factory.get(OFFLINE).calls
    assert offline_call.tools == [TOOL]
    assert [n.payload["action"] for n in notes] == ["route", "fallback"]

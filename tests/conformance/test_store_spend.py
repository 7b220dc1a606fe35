"""Conformance suite of the spending repositories of the Store port: budgets,
counters and reservations, the ledger, prices, providers and workspace
documents. Memory, SQLite and PostgreSQL pass it unchanged.

Every test starts with two workspaces, A and B. T0 is a Monday, so its week
and month windows start on Jan 5 and Jan 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from swarmyard.domain import (
    Budget,
    BudgetCounter,
    BudgetPeriod,
    BudgetScope,
    Conflict,
    CounterKey,
    LedgerEntry,
    ModelPrice,
    ModelSpec,
    NotFound,
    OnExceed,
    ProviderKind,
    ProviderSpec,
    Reservation,
    UsageGroup,
    UsageRow,
    Workspace,
    window_start,
)
from swarmyard.ports import Store, StoredProvider, UnitOfWork, UsageFilter

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"
MONTH, WEEK = BudgetPeriod.MONTH, BudgetPeriod.WEEK
WS, ROLE = BudgetScope.WORKSPACE, BudgetScope.ROLE
PROJECT, AGENT = BudgetScope.PROJECT, BudgetScope.AGENT


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def key(scope: BudgetScope, scope_id: str = "", period: BudgetPeriod = MONTH) -> CounterKey:
    return CounterKey(scope, scope_id, period, window_start(period, T0))


def entry(entry_id: str, when: datetime, cost: int, ws: str = A, **fields: Any) -> LedgerEntry:
    fields.setdefault("provider", "openai")
    fields.setdefault("model", "gpt-4o")
    fields.setdefault("role", "developer")
    fields.setdefault("task_type", "feature")
    return LedgerEntry(id=entry_id, workspace_id=ws, at=when, cost_microusd=cost, **fields)


def reservation(rid: str, amount: int, ws: str = A, *, expires: float = 1.0) -> Reservation:
    return Reservation(rid, ws, amount, [], T0, at(expires), run_id="r1", model="openai:gpt-4o")


@pytest.fixture
async def st(store: Store) -> Store:
    await store.add_workspace(Workspace(A, "Alpha", T0))
    await store.add_workspace(Workspace(B, "Beta", at(1)))
    return store


@asynccontextmanager
async def committed(store: Store, ws: str = A) -> AsyncIterator[UnitOfWork]:
    async with store.unit_of_work(ws) as uow:
        yield uow
        await uow.commit()


async def counter(store: Store, k: CounterKey, ws: str = A) -> tuple[int, int]:
    async with store.unit_of_work(ws) as uow:
        found = (await uow.budgets.counters([k]))[k]
    return found.spent_microusd, found.reserved_microusd


# ------------------------------------------------------------------ budgets


async def test_budgets_are_put_replaced_listed_and_deleted(st: Store) -> None:
    whole = Budget(A, WS, "", T0, monthly_limit_microusd=5_000_000_000, updated_by="user:u1")
    dev = Budget(A, ROLE, "developer", T0, weekly_limit_microusd=10, on_exceed=OnExceed.REFUSE)
    async with committed(st) as uow:
        await uow.budgets.put(whole)
        await uow.budgets.put(dev)
        assert await uow.budgets.get(ROLE, "developer") == dev  # own writes are visible
    replaced = replace(dev, monthly_limit_microusd=99, weekly_limit_microusd=None, updated_at=at(1))
    async with committed(st) as uow:
        await uow.budgets.put(replaced)
    async with st.unit_of_work(A) as uow:
        assert await uow.budgets.list() == [replaced, whole]
        got = await uow.budgets.get(WS, "")
        assert got == whole
        assert got is not None
        assert got.updated_at.tzinfo is UTC
        assert await uow.budgets.get(ROLE, "reviewer") is None
    async with committed(st) as uow:
        await uow.budgets.delete(ROLE, "developer")
        with pytest.raises(NotFound) as info:
            await uow.budgets.delete(ROLE, "developer")
        assert (info.value.kind, info.value.ident) == ("budget", "role developer")
        assert "role developer" in info.value.message
    async with st.unit_of_work(A) as uow:
        assert await uow.budgets.list() == [whole]


# ------------------------------------------------------------------ counters, reservations


async def test_counters_start_from_the_ledger_of_their_scope_and_window(st: Store) -> None:
    async with committed(st) as uow:
        for e in (
            entry("before-month", datetime(2025, 12, 31, 23, 59, tzinfo=UTC), 1000),
            entry("before-week", datetime(2026, 1, 4, 23, 59, tzinfo=UTC), 200),
            entry("dev", at(1), 30, project_id="p1", agent_id="a1"),
            entry("rev", at(2), 5, role="reviewer", agent_id="a2"),
            entry("week-end", datetime(2026, 1, 11, 23, 59, tzinfo=UTC), 7),
            entry("next-week", datetime(2026, 1, 12, tzinfo=UTC), 40),
            entry("next-month", datetime(2026, 2, 1, tzinfo=UTC), 9000),
        ):
            await uow.ledger.add(e)
    keys = [
        key(WS),
        key(WS, period=WEEK),
        key(ROLE, "developer"),
        key(ROLE, "developer", WEEK),
        key(ROLE, "reviewer"),
        key(PROJECT, "p1"),
        key(AGENT, "a1", WEEK),
        key(AGENT, "nobody"),
    ]
    async with st.unit_of_work(A) as uow:
        found = await uow.budgets.counters(keys)
    assert found == {
        keys[0]: BudgetCounter(keys[0], 282),
        keys[1]: BudgetCounter(keys[1], 42),
        keys[2]: BudgetCounter(keys[2], 277),
        keys[3]: BudgetCounter(keys[3], 37),
        keys[4]: BudgetCounter(keys[4], 5),
        keys[5]: BudgetCounter(keys[5], 30),
        keys[6]: BudgetCounter(keys[6], 30),
        keys[7]: BudgetCounter(keys[7], 0),
    }
    # Only reported, not stored: a later entry counts without any charge.
    async with committed(st) as uow:
        await uow.ledger.add(entry("late", at(3), 3))
    assert await counter(st, key(WS)) == (285, 0)


async def test_reserve_admits_while_spent_plus_reserved_is_below_the_limit(st: Store) -> None:
    k = key(ROLE, "developer")
    async with committed(st) as uow:
        await uow.ledger.add(entry("e1", at(0), 60))
        assert await uow.budgets.reserve(reservation("r1", 39), {k: 100})
    assert await counter(st, k) == (60, 39)
    async with committed(st) as uow:  # 99 < 100: admitted, and may overshoot by its amount
        assert await uow.budgets.reserve(reservation("r2", 50), {k: 100})
    assert await counter(st, k) == (60, 89)
    async with committed(st) as uow:  # at the edge: 149 is not below 149, but below 150
        assert not await uow.budgets.reserve(reservation("r3", 1), {k: 149})
        assert await uow.budgets.reserve(reservation("r3", 1), {k: 150})  # the id is free again
        assert not await uow.budgets.reserve(reservation("r4", 1), {k: 150})
        assert [r.id for r in await uow.budgets.open_reservations()] == ["r1", "r2", "r3"]
    assert await counter(st, k) == (60, 90)
    async with committed(st) as uow:
        with pytest.raises(Conflict):
            await uow.budgets.reserve(reservation("r1", 1), {k: 10_000})
        assert await uow.budgets.reserve(reservation("free", 0), {})  # no budget: just stored
    assert await counter(st, k) == (60, 90)


@pytest.mark.parametrize("full", ["first", "last"])
async def test_reserve_is_all_or_nothing(st: Store, full: str) -> None:
    role, whole = key(ROLE, "developer"), key(WS)  # held in this order
    limits = {role: 10, whole: 1000} if full == "first" else {role: 1000, whole: 10}
    async with committed(st) as uow:
        await uow.ledger.add(entry("e1", at(0), 10))
        assert not await uow.budgets.reserve(reservation("r1", 5), limits)
        assert await uow.budgets.open_reservations() == []
        await uow.ledger.add(entry("e2", at(1), 1))
    # Neither counter was kept: both still follow the ledger.
    assert await counter(st, role) == (11, 0)
    assert await counter(st, whole) == (11, 0)
    async with committed(st) as uow:
        assert await uow.budgets.reserve(reservation("r2", 5), {role: 1000, whole: 1000})
    assert await counter(st, role) == (11, 5)
    assert await counter(st, whole) == (11, 5)


async def test_release_gives_the_amount_back_once(st: Store) -> None:
    role, whole = key(ROLE, "developer"), key(WS, period=WEEK)
    async with committed(st) as uow:
        assert await uow.budgets.reserve(reservation("r1", 30), {whole: 100, role: 100})
        assert await uow.budgets.reserve(reservation("r2", 20), {whole: 100})
    async with st.unit_of_work(A) as uow:  # not committed: rolled back
        assert await uow.budgets.release("r1") is not None
    async with committed(st) as uow:
        released = await uow.budgets.release("r1")
        assert released == replace(reservation("r1", 30), keys=[whole, role])
        assert released is not None
        assert released.expires_at.tzinfo is UTC
        assert await uow.budgets.release("r1") is None
        assert await uow.budgets.release("never") is None
    assert await counter(st, role) == (0, 0)
    assert await counter(st, whole) == (0, 20)
    async with st.unit_of_work(B) as uow:  # another workspace's reservation
        assert await uow.budgets.release("r2") is None
    async with st.unit_of_work(A) as uow:
        assert [r.id for r in await uow.budgets.open_reservations()] == ["r2"]


async def test_charge_moves_only_existing_counters_of_the_entry(st: Store) -> None:
    held = [
        key(WS),
        key(WS, period=WEEK),
        key(ROLE, "developer", WEEK),
        key(PROJECT, "p1"),
        key(AGENT, "a1", WEEK),
        key(ROLE, "reviewer"),
        CounterKey(WS, "", MONTH, datetime(2026, 2, 1, tzinfo=UTC)),
    ]
    async with committed(st) as uow:
        assert await uow.budgets.reserve(reservation("r1", 1), dict.fromkeys(held, 100))
        await uow.budgets.charge(entry("e1", at(1), 7, project_id="p1", agent_id="a1"))
        await uow.budgets.charge(entry("e2", at(1), 0, project_id="p1", agent_id="a1"))
        await uow.budgets.charge(entry("e3", at(1), 2))  # no project, no agent
    expected = [(9, 1), (9, 1), (9, 1), (7, 1), (7, 1), (0, 1), (0, 1)]
    assert [await counter(st, k) for k in held] == expected
    # Never created: a charge alone leaves a counter to the (empty) ledger.
    assert await counter(st, key(AGENT, "a1")) == (0, 0)
    assert await counter(st, key(PROJECT, "p1", WEEK)) == (0, 0)
    async with st.unit_of_work(A) as uow:
        with pytest.raises(ValueError, match="workspace"):
            await uow.budgets.charge(entry("e4", at(1), 7, ws=B))


async def test_concurrent_reservations_never_pass_the_limit(st: Store) -> None:
    whole, role = key(WS), key(ROLE, "developer")

    async def reserve(n: int) -> bool:
        async with committed(st) as uow:
            return await uow.budgets.reserve(reservation(f"r{n}", 10), {whole: 100, role: 1000})

    granted = await asyncio.gather(*(reserve(n) for n in range(40)))
    assert granted.count(True) == 10
    assert await counter(st, whole) == (0, 100)
    assert await counter(st, role) == (0, 100)
    async with st.unit_of_work(A) as uow:
        assert len(await uow.budgets.open_reservations()) == 10


async def test_concurrent_releases_give_back_once(st: Store) -> None:
    k = key(WS)
    async with committed(st) as uow:
        for n in range(5):
            assert await uow.budgets.reserve(reservation(f"r{n}", 10), {k: 100})

    async def release(n: int) -> bool:
        async with committed(st) as uow:
            return await uow.budgets.release(f"r{n % 5}") is not None

    async def sweep() -> int:
        return len(await st.release_expired_reservations(at(2)))

    results = await asyncio.gather(*(release(n) for n in range(20)), sweep())
    assert sum(results[:-1]) + results[-1] == 5
    assert await counter(st, k) == (0, 0)


async def test_expired_reservations_of_every_workspace_are_released(st: Store) -> None:
    k = key(WS)
    async with committed(st) as uow:
        assert await uow.budgets.reserve(reservation("a-late", 1, expires=3), {k: 100})
        assert await uow.budgets.reserve(reservation("a-early", 10, expires=1), {k: 100})
        assert await uow.budgets.reserve(reservation("a-open", 100, expires=9), {k: 1000})
    async with committed(st, B) as uow:
        assert await uow.budgets.reserve(reservation("b-mid", 5, B, expires=2), {k: 100})
    assert await st.release_expired_reservations(at(0.5)) == []
    first = await st.release_expired_reservations(at(3), limit=2)
    assert [(r.id, r.workspace_id) for r in first] == [("a-early", A), ("b-mid", B)]
    assert first[0] == replace(reservation("a-early", 10, expires=1), keys=[k])
    rest = await st.release_expired_reservations(at(3))  # expires_at <= now
    assert [r.id for r in rest] == ["a-late"]
    assert await st.release_expired_reservations(at(3)) == []
    assert await counter(st, k) == (0, 100)
    assert await counter(st, k, B) == (0, 0)
    async with st.unit_of_work(A) as uow:
        assert await uow.budgets.release("a-late") is None
        assert [r.id for r in await uow.budgets.open_reservations()] == ["a-open"]


async def test_reserving_in_a_missing_workspace_is_not_found(st: Store) -> None:
    async with st.unit_of_work("ghost") as uow:
        with pytest.raises(NotFound) as info:
            await uow.budgets.reserve(reservation("r1", 1, "ghost"), {key(WS): 0})
        assert info.value.kind == "workspace"


# ------------------------------------------------------------------ ledger


USAGE = [
    entry("e1", at(0), 300, tokens_in=100, tokens_out=50, tokens_cached=10,
          project_id="p1", agent_id="a1", task_id="t1", run_id="r1"),
    entry("e2", at(1), 20, model="gpt-4o-mini", tokens_in=10, tokens_out=5,
          project_id="p1", agent_id="a1", task_id="t1", run_id="r1"),
    entry("e3", at(24), 500, provider="anthropic", model="claude", role="reviewer",
          task_type="review", tokens_in=200, tokens_out=100, agent_id="a2", task_id="t2",
          run_id="r2"),
    entry("e4", at(25), 0, provider="ollama", model="llama3.1", task_type="bugfix",
          tokens_in=50, tokens_out=50, agent_id="a1", task_id="t3", ok=False, error="timeout"),
]  # fmt: skip


@pytest.fixture
async def usage(st: Store) -> Store:
    async with committed(st) as uow:
        for e in USAGE:
            await uow.ledger.add(e)
    async with committed(st, B) as uow:
        await uow.ledger.add(entry("b1", at(0), 7777, ws=B, project_id="p1", run_id="r1"))
    return st


DEV, REV, FREE = (320, 3, 1), (500, 1, 0), (0, 1, 1)  # (cost, calls, failed)
EXPECTED: dict[UsageGroup, list[tuple[str, int, int, int]]] = {
    UsageGroup.PROVIDER: [("anthropic", *REV), ("openai", 320, 2, 0), ("ollama", *FREE)],
    UsageGroup.MODEL: [
        ("anthropic:claude", *REV),
        ("openai:gpt-4o", 300, 1, 0),
        ("openai:gpt-4o-mini", 20, 1, 0),
        ("ollama:llama3.1", *FREE),
    ],
    UsageGroup.ROLE: [("reviewer", *REV), ("developer", *DEV)],
    UsageGroup.TASK_TYPE: [("review", *REV), ("feature", 320, 2, 0), ("bugfix", *FREE)],
    UsageGroup.DAY: [("2026-01-06", 500, 2, 1), ("2026-01-05", 320, 2, 0)],
    UsageGroup.PROJECT: [("", 500, 2, 1), ("p1", 320, 2, 0)],
    UsageGroup.AGENT: [("a2", *REV), ("a1", *DEV)],
    UsageGroup.TASK: [("t2", *REV), ("t1", 320, 2, 0), ("t3", *FREE)],
    UsageGroup.RUN: [("r2", *REV), ("r1", 320, 2, 0), ("", *FREE)],
}


@pytest.mark.parametrize("group", list(UsageGroup))
async def test_usage_groups_most_expensive_first(usage: Store, group: UsageGroup) -> None:
    async with usage.unit_of_work(A) as uow:
        rows = await uow.ledger.usage(group)
        assert [(r.key, r.cost_microusd, r.calls, r.failed_calls) for r in rows] == EXPECTED[group]
        assert await uow.ledger.usage(group, limit=1) == rows[:1]


async def test_usage_sums_tokens_and_ties_order_by_key(usage: Store) -> None:
    async with committed(usage) as uow:
        await uow.ledger.add(entry("z", at(2), 5, role="Zeta"))
        await uow.ledger.add(entry("a", at(2), 5, role="alpha", tokens_in=1))
        rows = await uow.ledger.usage(UsageGroup.ROLE, UsageFilter(since=at(2), until=at(3)))
    assert rows == [UsageRow("Zeta", 1, 0, 0, 0, 0, 5), UsageRow("alpha", 1, 0, 1, 0, 0, 5)]
    async with usage.unit_of_work(A) as uow:
        dev = await uow.ledger.usage(UsageGroup.AGENT, UsageFilter(agent_id="a1"))
    assert dev == [UsageRow("a1", 3, 1, 160, 105, 10, 320)]


async def test_totals_and_list_honour_every_filter(usage: Store) -> None:
    cases: list[tuple[UsageFilter, list[str]]] = [
        (UsageFilter(), ["e4", "e3", "e2", "e1"]),
        (UsageFilter(since=at(1)), ["e4", "e3", "e2"]),
        (UsageFilter(until=at(24)), ["e2", "e1"]),
        (UsageFilter(since=at(1), until=at(25)), ["e3", "e2"]),
        (UsageFilter(role="reviewer"), ["e3"]),
        (UsageFilter(task_type="feature"), ["e2", "e1"]),
        (UsageFilter(provider="openai"), ["e2", "e1"]),
        (UsageFilter(model="gpt-4o"), ["e1"]),
        (UsageFilter(provider="openai", model="claude"), []),
        (UsageFilter(project_id="p1"), ["e2", "e1"]),
        (UsageFilter(agent_id="a1"), ["e4", "e2", "e1"]),
        (UsageFilter(task_id="t3"), ["e4"]),
        (UsageFilter(run_id="r1", role="developer"), ["e2", "e1"]),
    ]
    by_id = {e.id: e for e in USAGE}
    async with usage.unit_of_work(A) as uow:
        for flt, ids in cases:
            assert [e.id for e in await uow.ledger.list(flt)] == ids, flt
            chosen = [by_id[i] for i in ids]
            totals = await uow.ledger.totals(flt)
            assert totals == UsageRow(
                "",
                len(chosen),
                sum(not e.ok for e in chosen),
                sum(e.tokens_in for e in chosen),
                sum(e.tokens_out for e in chosen),
                sum(e.tokens_cached for e in chosen),
                sum(e.cost_microusd for e in chosen),
            ), flt
            assert sum(r.calls for r in await uow.ledger.usage(UsageGroup.DAY, flt)) == len(ids)
        assert [e.id for e in await uow.ledger.list(limit=2)] == ["e4", "e3"]
        listed = await uow.ledger.list(UsageFilter(task_id="t3"))
        assert listed == [USAGE[3]]
        assert listed[0].at.tzinfo is UTC


async def test_ledger_entries_are_unique(usage: Store) -> None:
    async with committed(usage) as uow:
        with pytest.raises(Conflict):
            await uow.ledger.add(entry("e1", at(9), 1))
        await uow.ledger.add(entry("e9", at(9), 1))  # the unit of work goes on
    async with usage.unit_of_work(A) as uow:
        assert (await uow.ledger.totals()).calls == 5


async def test_run_costs_are_per_run_newest_first(st: Store) -> None:
    async with committed(st) as uow:
        for e in (
            entry("a", at(0), 10, run_id="r1"),
            entry("b", at(3), 5_000_000_000, run_id="r1"),
            entry("c", at(1), 100, run_id="r2"),
            entry("d", at(2), 1, run_id="r3", role="reviewer"),
            entry("e", at(4), 2, run_id="r4", task_type="bugfix"),
            entry("f", at(5), 3),  # no run
        ):
            await uow.ledger.add(e)
    async with committed(st, B) as uow:
        await uow.ledger.add(entry("g", at(9), 4, ws=B, run_id="r9"))
    async with st.unit_of_work(A) as uow:
        runs = uow.ledger.run_costs
        assert await runs(role="developer", task_type="feature") == [5_000_000_010, 100]
        assert await runs(role="developer", task_type="feature", limit=1) == [5_000_000_010]
        assert await runs(role="reviewer", task_type="feature") == [1]
        assert await runs(role="tester", task_type="feature") == []


# ------------------------------------------------------------------ prices, providers, documents


async def test_prices(st: Store) -> None:
    gpt = ModelPrice("openai:gpt-4o", 2.5, 10.0, 1.25, T0, "user:u1")
    local = ModelPrice("ollama:llama3.1")
    async with committed(st) as uow:
        await uow.prices.put(gpt)
        await uow.prices.put(local)
        await uow.prices.put(replace(gpt, input_per_mtok=3.0))
    async with committed(st) as uow:
        assert await uow.prices.list() == [local, replace(gpt, input_per_mtok=3.0)]
        assert await uow.prices.get("ollama:llama3.1") == local
        assert await uow.prices.get("openai:o1") is None
        await uow.prices.delete("ollama:llama3.1")
        with pytest.raises(NotFound) as info:
            await uow.prices.delete("ollama:llama3.1")
        assert info.value.ident == "ollama:llama3.1"
    async with st.unit_of_work(A) as uow:
        assert [p.model_ref for p in await uow.prices.list()] == ["openai:gpt-4o"]


def provider(name: str, *, key: str | None = None) -> StoredProvider:
    spec = ProviderSpec(
        name=name,
        kind=ProviderKind.OPENAI_COMPATIBLE,
        base_url="http://127.0.0.1:8000/v1",
        models=[ModelSpec(name="qwen2.5:7b", max_output_tokens=2048)],
    )
    return StoredProvider(spec, T0, sealed_key=key, updated_by="user:u1")


async def test_providers(st: Store) -> None:
    async with committed(st) as uow:
        await uow.providers.put(provider("vllm", key="sealed:abc"))
        await uow.providers.put(provider("lmstudio"))
        await uow.providers.put(replace(provider("vllm"), updated_at=at(1)))
    async with committed(st) as uow:
        listed = await uow.providers.list()
        assert [p.spec.name for p in listed] == ["lmstudio", "vllm"]
        assert listed[1] == replace(provider("vllm"), updated_at=at(1))
        assert listed[1].updated_at.tzinfo is UTC
        assert await uow.providers.get("lmstudio") == provider("lmstudio")
        assert await uow.providers.get("openai") is None
        await uow.providers.delete("lmstudio")
        with pytest.raises(NotFound) as info:
            await uow.providers.delete("lmstudio")
        assert (info.value.kind, info.value.ident) == ("provider", "lmstudio")
    async with st.unit_of_work(A) as uow:
        assert [p.spec.name for p in await uow.providers.list()] == ["vllm"]


async def test_settings_hold_any_json_value(st: Store) -> None:
    routing = {"rules": [{"when": {"roles": ["developer"]}, "tier": "fast"}], "n": 1.5}
    async with committed(st) as uow:
        assert await uow.settings.get("routing") is None
        await uow.settings.put("routing", routing, at=T0, by="user:u1")
        await uow.settings.put("list", [1, "two", None, True], at=T0, by="user:u1")
        await uow.settings.put("text", "plain", at=T0, by="user:u1")
    async with committed(st) as uow:
        assert await uow.settings.get("routing") == routing
        assert await uow.settings.get("list") == [1, "two", None, True]
        assert await uow.settings.get("text") == "plain"
        await uow.settings.put("routing", {"rules": []}, at=at(1), by="user:u2")
        assert await uow.settings.delete("text")
        assert not await uow.settings.delete("text")
    async with st.unit_of_work(A) as uow:
        assert await uow.settings.get("routing") == {"rules": []}
        assert await uow.settings.get("text") is None


# ------------------------------------------------------------------ tenancy, deletion


async def fill(store: Store, ws: str) -> None:
    """One row of every spending kind (ids prefixed by the workspace where unique
    across workspaces, the same names elsewhere)."""
    async with committed(store, ws) as uow:
        await uow.budgets.put(Budget(ws, WS, "", T0, monthly_limit_microusd=100))
        await uow.ledger.add(entry(f"{ws}:e1", at(0), 10, ws=ws, run_id="r1"))
        assert await uow.budgets.reserve(reservation(f"{ws}:r1", 5, ws), {key(WS): 100})
        await uow.prices.put(ModelPrice("openai:gpt-4o", 1.0, 2.0))
        await uow.providers.put(provider("vllm"))
        await uow.settings.put("routing", {"ws": ws}, at=T0, by="user:u1")


async def snapshot(store: Store, ws: str) -> dict[str, Any]:
    async with store.unit_of_work(ws) as uow:
        return {
            "budgets": await uow.budgets.list(),
            "counter": await uow.budgets.counters([key(WS)]),
            "reservations": await uow.budgets.open_reservations(),
            "ledger": await uow.ledger.list(),
            "usage": await uow.ledger.usage(UsageGroup.ROLE),
            "runs": await uow.ledger.run_costs(role="developer", task_type="feature"),
            "prices": await uow.prices.list(),
            "providers": await uow.providers.list(),
            "routing": await uow.settings.get("routing"),
        }


async def test_another_workspaces_rows_are_invisible(st: Store) -> None:
    nothing = await snapshot(st, B)
    await fill(st, A)
    assert await snapshot(st, B) == nothing
    async with committed(st, B) as uow:
        assert await uow.budgets.get(WS, "") is None
        assert await uow.budgets.release(f"{A}:r1") is None
        assert await uow.prices.get("openai:gpt-4o") is None
        assert await uow.providers.get("vllm") is None
        assert not await uow.settings.delete("routing")
        with pytest.raises(NotFound):
            await uow.budgets.delete(WS, "")
        with pytest.raises(NotFound):
            await uow.prices.delete("openai:gpt-4o")
        with pytest.raises(NotFound):
            await uow.providers.delete("vllm")
        await uow.budgets.charge(entry("b1", at(0), 1000, ws=B))
    assert await counter(st, key(WS)) == (10, 5)
    before = await snapshot(st, A)
    await fill(st, B)  # the same names in B change nothing of A's
    assert await snapshot(st, A) == before


async def test_deleting_a_workspace_removes_its_spending(st: Store) -> None:
    nothing = await snapshot(st, "never-existed")
    await fill(st, A)
    await fill(st, B)
    before_a, before_b = await snapshot(st, A), await snapshot(st, B)
    assert all(before_a.values())

    await st.delete_workspace(A)

    assert await snapshot(st, A) == nothing
    assert await snapshot(st, B) == before_b
    await st.add_workspace(Workspace(A, "Alpha again", at(9)))
    await fill(st, A)  # the same ids go in again: the rows are gone, not hidden
    assert await snapshot(st, A) == before_a

"""1,000 concurrent model calls against one small budget, on every store:
the settled spend never passes the limit by more than one call's
reservation, and no reservation stays open once the calls are done."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store import MemoryStore, SqlStore
from swarmyard.adapters.store.testing import create_database, drop_database
from swarmyard.domain import (
    Budget,
    BudgetScope,
    ModelSpec,
    ModelTier,
    PriceSpec,
    ProviderKind,
    ProviderSpec,
    counter_keys,
)
from swarmyard.ports import Store, UsageFilter
from swarmyard.services.call_ledger import prompt_token_bound

WS = "default"
CALLS = 1000
LIMIT_CENTS = 1  # $0.01 = 10,000 µUSD


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, run_in_thread: Any
) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        sqlite = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'race.db'}")
        yield sqlite
        await sqlite.close()
        return
    server: URL = request.getfixturevalue("postgres_server")
    database = run_in_thread(create_database(server))
    pg = SqlStore(database.render_as_string(hide_password=False))
    try:
        yield pg
    finally:
        await pg.close()
        run_in_thread(drop_database(server, database))


def providers() -> list[ProviderSpec]:
    def spec(name: str, price: float, *, local: bool) -> ProviderSpec:
        return ProviderSpec(
            name=name,
            kind=ProviderKind.OPENAI_COMPATIBLE,
            base_url=f"https://{name}.example/v1",
            local=local,
            models=[
                ModelSpec(
                    name="m",
                    tier=ModelTier.MID,
                    max_output_tokens=1000,
                    price=PriceSpec(input_per_mtok=price, output_per_mtok=4 * price),
                )
            ],
        )

    return [spec("paid", 2.0, local=False), spec("free", 0.0, local=True)]


async def test_concurrent_calls_never_overspend_by_more_than_one_reservation(
    make_router: Callable[..., Any], store: Store, answer: Any
) -> None:
    kit = await make_router(providers(), offline=False, store=store)
    kit.factory.get("paid:m").default = lambda: answer(tokens_in=100, tokens_out=20)
    async with store.unit_of_work(WS) as uow:
        await uow.budgets.put(
            Budget(
                WS,
                BudgetScope.ROLE,
                "developer",
                kit.clock.now(),
                monthly_limit_microusd=LIMIT_CENTS * 10_000,
            )
        )
        await uow.commit()
    call = kit.call()
    reservation = prompt_token_bound(call) * 2 + 1000 * 8  # the paid model's worst case

    results = await asyncio.gather(
        *(kit.router.complete(kit.call(run_id=f"run_{i}")) for i in range(CALLS))
    )

    paid = [r for r in results if r.candidate.ref == "paid:m"]
    assert len(paid) >= 2  # the budget admits calls while anything is left of it
    assert len(results) == CALLS
    async with store.unit_of_work(WS) as uow:
        totals = await uow.ledger.totals(UsageFilter())
        (b,) = await uow.budgets.list()
        keys = [k for k, _ in counter_keys(b, kit.clock.now())]
        (counter,) = (await uow.budgets.counters(keys)).values()
        assert await uow.budgets.open_reservations() == []
    assert totals.calls == CALLS
    assert totals.cost_microusd == sum(r.cost_microusd for r in paid) == len(paid) * 360
    assert totals.cost_microusd <= LIMIT_CENTS * 10_000 + reservation
    assert counter.spent_microusd == totals.cost_microusd
    assert counter.reserved_microusd == 0

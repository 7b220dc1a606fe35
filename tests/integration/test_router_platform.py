"""The router inside the platform: real runs against loopback providers that
speak the vendors' wire protocols, with budgets, fallback, the breaker and
the ledger checked against what the providers reported."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic_ai.messages import ModelRequest, UserPromptPart

from swarmyard.api.app import create_app
from swarmyard.config_file import parse_platform_file
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, TaskStatus
from swarmyard.ports import ModelCall, UsageFilter
from swarmyard.runtime.wiring import Container, build
from swarmyard.services.router import Restart, Routed
from swarmyard.services.tasks import NewTask
from swarmyard.testing import (
    Drop,
    ErrorReply,
    FakeProviderServer,
    Reply,
    embedded_settings,
    wait_for_task,
)

ACME_KEY = "sk-acme-SECRET-1234567890"
CLAUDE_KEY = "sk-ant-SECRET-0987654321"
SECRETS = (ACME_KEY, CLAUDE_KEY, "SECRET-1234567890", "SECRET-0987654321")


def platform_file(fake: FakeProviderServer, **router: Any) -> Any:
    return parse_platform_file(
        {
            "router": {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02, **router},
            "providers": {
                "acme": {
                    "kind": "openai-compatible",
                    "base_url": fake.openai_base_url,
                    "api_key_env": "ACME_KEY",
                    "max_retries": 1,
                    "models": [
                        {
                            "name": "acme-large",
                            "tier": "mid",
                            "max_output_tokens": 1000,
                            "price": {"input_per_mtok": 4.0, "output_per_mtok": 20.0},
                        },
                        {
                            "name": "acme-lite",
                            "tier": "mid",
                            "max_output_tokens": 1000,
                            "price": {"input_per_mtok": 0.5, "output_per_mtok": 2.0},
                        },
                    ],
                },
                "claude": {
                    "kind": "anthropic",
                    "base_url": fake.anthropic_base_url,
                    "api_key_env": "CLAUDE_KEY",
                    "max_retries": 0,
                    "models": [
                        {
                            "name": "claude-x",
                            "tier": "premium",
                            "max_output_tokens": 1000,
                            "price": {"input_per_mtok": 3.0, "output_per_mtok": 15.0},
                        }
                    ],
                },
            },
        }
    )


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeProviderServer]:
    monkeypatch.setenv("ACME_KEY", ACME_KEY)
    monkeypatch.setenv("CLAUDE_KEY", CLAUDE_KEY)
    async with FakeProviderServer() as server:
        yield server


async def started(tmp_path: Path, fake: FakeProviderServer, **router: Any) -> Container:
    c = build(embedded_settings(tmp_path), platform=platform_file(fake, **router))
    await c.start()
    await c.registry.install(WS, "developer")
    return c


async def run_task(c: Container, title: str) -> tuple[Any, Any]:
    task = await c.tasks.create(WS, NewTask(title=title, type="bugfix"))
    task = await wait_for_task(
        c,
        WS,
        task.id,
        lambda t: t.status in (TaskStatus.REVIEW, TaskStatus.DONE, TaskStatus.FAILED),
    )
    runs = await c.runs.for_task(WS, task.id)
    return task, runs[-1]


async def events_of(c: Container, run_id: str) -> list[Any]:
    async with c.store.unit_of_work(WS) as uow:
        return await uow.events.list(run_id)


async def test_budget_tiers_steer_real_runs_and_the_ledger_matches_the_providers(
    tmp_path: Path, fake: FakeProviderServer
) -> None:
    # Every answer: 10,000 prompt tokens and 1,000 output tokens, as the provider reports them.
    fake.default = Reply("Implemented.", input_tokens=10_000, output_tokens=1_000)
    c = await started(tmp_path, fake)
    try:
        await c.budgets.put(WS, scope="role", scope_id="developer", monthly_cents=7)  # $0.07
        card, first = await run_task(c, "one")  # 0% used: the rule's choice
        assert (card.cost_microusd, card.tokens_in, card.tokens_out) == (60_000, 10_000, 1_000)
        # 10,000 x $4/Mtok + 1,000 x $20/Mtok = 60,000 µUSD: now 86% of 70,000
        _, second = await run_task(c, "two")  # above 80%: the cheapest mid-tier model
        _, third = await run_task(c, "three")  # 67,000: still below the limit
        _, fourth = await run_task(c, "four")  # 74,000: past the limit, the free fallback
        assert [r.model for r in (first, second, third, fourth)] == [
            "acme:acme-large",
            "acme:acme-lite",
            "acme:acme-lite",
            "offline:swarmyard-offline-1",
        ]
        assert [r.cost_microusd for r in (first, second, third, fourth)] == [
            60_000,
            7_000,
            7_000,
            0,
        ]
        routing = [e.payload for e in await events_of(c, second.id) if e.type is EventType.ROUTING]
        assert routing[0]["budget"] == "economy"
        assert "budget above 80%" in routing[0]["reason"]
        async with c.store.unit_of_work(WS) as uow:
            entries = await uow.ledger.list(UsageFilter(), limit=10)
            assert await uow.budgets.open_reservations() == []
        paid = [e for e in entries if e.provider == "acme"]
        assert len(paid) == len(fake.requests) == 3
        for entry in paid:  # what the provider reported, priced to the µUSD
            assert (entry.tokens_in, entry.tokens_out) == (10_000, 1_000)
        assert sum(e.cost_microusd for e in entries) == 74_000  # 7.4 cents, to the cent
        (status,) = await c.budgets.list(WS)
        assert status.windows[0].spent_microusd == 74_000
        assert status.windows[0].tier.value == "exceeded"
        assert fake.requests[0].api_key == ACME_KEY
        assert fake.requests[0].body["max_tokens"] == 1000
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)


async def test_a_failing_provider_falls_back_and_a_dead_one_is_skipped(
    tmp_path: Path, fake: FakeProviderServer
) -> None:
    fake.enqueue(ErrorReply(500), ErrorReply(503), protocol="openai")
    fake.enqueue(Reply("Done by Claude.", input_tokens=50, output_tokens=10), protocol="anthropic")
    c = await started(tmp_path, fake, breaker_threshold=2, breaker_cooldown_seconds=600)
    try:
        task, run = await run_task(c, "flaky")
        assert task.status is TaskStatus.DONE
        assert run.model == "claude:claude-x"
        routing = [e.payload for e in await events_of(c, run.id) if e.type is EventType.ROUTING]
        actions = [p["action"] for p in routing]
        assert actions[:2] == ["route", "retry"]
        assert {
            "action": "breaker",
            "provider": "acme",
            "from": "closed",
            "to": "open",
            "reason": "2 consecutive failures",
        } in routing
        skip = next(p for p in routing if p["action"] == "skip")
        assert skip["model"] == "acme:acme-lite"  # same provider: skipped, not called
        assert "fallback" in actions
        assert len(fake.requests_for("openai")) == 2
        # The provider stays down: the next run goes straight past it.
        fake.enqueue(Reply("Again.", input_tokens=5, output_tokens=5), protocol="anthropic")
        _, again = await run_task(c, "next")
        assert again.model == "claude:claude-x"
        assert len(fake.requests_for("openai")) == 2
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)


async def test_no_key_appears_in_events_responses_errors_or_logs(
    tmp_path: Path, fake: FakeProviderServer, capfd: pytest.CaptureFixture[str]
) -> None:
    # Both providers refuse, echoing the key they were sent back in their error bodies.
    fake.enqueue(ErrorReply(401, echo_key=True), ErrorReply(401, echo_key=True), protocol="openai")
    fake.enqueue(ErrorReply(500, echo_key=True), protocol="anthropic")
    c = await started(tmp_path, fake, offline_fallback=False)
    try:
        task, run = await run_task(c, "doomed")
        assert task.status is TaskStatus.FAILED
        assert run.error is not None
        assert "401" in run.error
        seen: list[str] = []
        for each in await c.runs.for_task(WS, task.id):  # a failed task was tried again
            seen.append(each.error or "")
            seen += [json.dumps(e.payload) for e in await events_of(c, each.id)]
        app = create_app(c, manage_lifecycle=False)
        key = json.loads((c.settings.data_dir / "credentials.json").read_text())["api_key"]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test/api/v1",
            headers={"Authorization": f"Bearer {key}"},
        ) as api:
            for path in (
                f"/runs/{run.id}",
                f"/runs/{run.id}/events",
                f"/tasks/{task.id}",
                "/agents",
            ):
                response = await api.get(path)
                assert response.status_code == 200, path
                seen.append(response.text)
        async with c.store.unit_of_work(WS) as uow:
            seen += [e.error or "" for e in await uow.ledger.list(UsageFilter())]
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)
    out, err = capfd.readouterr()
    seen += [out, err]
    for text in seen:
        for secret in SECRETS:
            assert secret not in text


async def test_a_stream_cut_mid_answer_restarts_on_the_next_provider(
    tmp_path: Path, fake: FakeProviderServer
) -> None:
    fake.enqueue(Drop(after_events=2, reply=Reply("This answer will be cut")), protocol="openai")
    fake.enqueue(Drop(after_events=2, reply=Reply("And this one too")), protocol="openai")
    fake.enqueue(
        Reply("Streamed by Claude.", input_tokens=7, output_tokens=4), protocol="anthropic"
    )
    c = await started(tmp_path, fake, breaker_threshold=2)
    try:
        call = ModelCall(
            messages=[ModelRequest(parts=[UserPromptPart("Fix it")])],
            tools=[],
            role="developer",
            task_type="bugfix",
            complexity="medium",
            workspace_id=WS,
            model_tier="mid",
        )
        items: list[Any] = []
        async with aclosing(c.router.run(call, stream=True)) as stream:
            async for item in stream:
                items.append(item)
        restarts = [i for i in items if isinstance(i, Restart)]
        assert len(restarts) == 2  # each cut stream is announced before starting over
        final = items[-1]
        assert isinstance(final, Routed)
        assert final.candidate.ref == "claude:claude-x"
        last_restart = max(i for i, item in enumerate(items) if isinstance(item, Restart))
        after = items[last_restart + 1 :]
        text = "".join(i for i in after if isinstance(i, str))
        assert text == "Streamed by Claude."
        assert (final.tokens_in, final.tokens_out) == (7, 4)
        assert final.cost_microusd == 7 * 3 + 4 * 15
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)

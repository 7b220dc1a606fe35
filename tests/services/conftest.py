"""A model router on in-memory adapters, with scripted model clients.

Clients answer from a script (a response, or a `ModelError` to raise), so
routing, budgets, retries, fallback and the breaker are tested without a
network; the provider adapters have their own wire-level tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.usage import RequestUsage

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.security import FernetSecretBox
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import (
    DEFAULT_WORKSPACE,
    FakeClock,
    ModelSpec,
    ProviderSpec,
    SequentialIds,
    Workspace,
)
from swarmyard.domain.routing import RouterOptions, RoutingRules
from swarmyard.ports import ModelCall, ModelClient, Store, TablePrice
from swarmyard.services.deps import Deps
from swarmyard.services.model_directory import ModelDirectory
from swarmyard.services.router import ModelRouter

WS = DEFAULT_WORKSPACE


def answer(
    text: str = "done", *, tokens_in: int = 100, tokens_out: int = 20, cached: int = 0
) -> ModelResponse:
    return ModelResponse(
        parts=[TextPart(text)],
        usage=RequestUsage(
            input_tokens=tokens_in, output_tokens=tokens_out, cache_read_tokens=cached
        ),
    )


@dataclass
class ScriptedClient:
    provider: str
    model_name: str
    offline: bool = False
    script: list[Any] = field(default_factory=list)
    default: Callable[[], ModelResponse] = answer
    calls: list[ModelCall] = field(default_factory=list)

    def _next(self) -> ModelResponse:
        item = self.script.pop(0) if self.script else self.default()
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, ModelResponse)
        return item

    async def request(self, call: ModelCall) -> ModelResponse:
        self.calls.append(call)
        return self._next()

    async def stream(self, call: ModelCall) -> AsyncIterator[str | ModelResponse]:
        self.calls.append(call)
        item = self.script.pop(0) if self.script else self.default()
        if isinstance(item, tuple):  # (deltas, then an error or a response)
            deltas, end = item
            for d in deltas:
                yield d
            item = end
        if isinstance(item, BaseException):
            raise item
        for word in (item.text or "").split(" "):
            yield word
        yield item


class ScriptedFactory:
    """Hands out one `ScriptedClient` per (provider, model), made on first use."""

    def __init__(self) -> None:
        self.clients: dict[str, ScriptedClient] = {}

    def get(self, ref: str) -> ScriptedClient:
        provider, model = ref.split(":", 1)
        if ref not in self.clients:
            self.clients[ref] = ScriptedClient(provider, model, offline=provider == "offline")
        return self.clients[ref]

    def client(
        self, provider: ProviderSpec, model: ModelSpec, *, api_key: str | None = None
    ) -> ModelClient:
        return self.get(f"{provider.name}:{model.name}")

    async def aclose(self) -> None:
        return None


class NoPublicPrices:
    def price(self, provider_kind: str, model: str) -> TablePrice | None:
        return None

    def cost_microusd(self, provider_kind: str, model: str, **usage: int) -> int | None:
        return None


@dataclass
class RouterKit:
    store: Store
    deps: Deps
    clock: FakeClock
    factory: ScriptedFactory
    router: ModelRouter
    directory: ModelDirectory
    sleeps: list[float]
    mono: list[float]

    def call(
        self,
        role: str = "developer",
        *,
        task_type: str = "feature",
        complexity: str = "medium",
        tier: str = "mid",
        prompt: str = "hello",
        max_tokens: int | None = None,
        project_id: str | None = None,
        agent_id: str | None = None,
        run_id: str = "run_1",
    ) -> ModelCall:
        return ModelCall(
            messages=[ModelRequest(parts=[UserPromptPart(prompt)])],
            tools=[],
            max_tokens=max_tokens,
            role=role,
            run_id=run_id,
            task_id="task_1",
            task_type=task_type,
            complexity=complexity,
            workspace_id=WS,
            agent_id=agent_id,
            project_id=project_id,
            model_tier=tier,
        )


@pytest.fixture
def make_router() -> Callable[..., Any]:
    async def make(
        providers: list[ProviderSpec],
        *,
        rules: RoutingRules | None = None,
        options: RouterOptions | None = None,
        offline: bool = True,
        store: Store | None = None,
    ) -> RouterKit:
        clock = FakeClock(datetime(2026, 11, 18, 12, tzinfo=UTC))
        store = store or MemoryStore()
        await store.migrate()
        await store.add_workspace(Workspace(WS, "Default", clock.now()))
        deps = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
        directory = ModelDirectory(
            deps,
            file_providers=providers,
            file_prices={},
            file_rules=rules,
            prices=NoPublicPrices(),
            secrets=FernetSecretBox(b"test secret"),
            offline_fallback=offline,
        )
        sleeps: list[float] = []
        mono = [1000.0]

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            mono[0] += seconds

        factory = ScriptedFactory()
        router = ModelRouter(
            deps,
            directory,
            factory,
            NoPublicPrices(),
            options or RouterOptions(),
            sleep=sleep,
            rand=lambda: 0.5,
            monotonic=lambda: mono[0],
        )
        return RouterKit(store, deps, clock, factory, router, directory, sleeps, mono)

    return make


@pytest.fixture(name="answer")
def answer_fixture() -> Callable[..., ModelResponse]:
    return answer

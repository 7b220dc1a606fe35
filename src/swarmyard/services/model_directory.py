"""What a workspace's router can choose from: every configured model with
its price, the routing rules in force, and the credentials to call them.

Sources, merged per workspace:
- the platform file's providers (every workspace; keys from environment
  variables), its `[prices]` and `[routing]`;
- providers registered through the API (this workspace only; keys sealed in
  the database and opened here, in memory, when a client is built);
- the workspace's price overrides and routing rules (database);
- the platform's own providers: the free local tier (a GGUF model that
  llama.cpp runs on this machine, when installed) and the built-in offline
  model, the last resort of every chain (unless the platform file turns it
  off, or the local tier takes its place).

A price comes from, in order: the workspace's override, the platform file,
the model's own `price`, zero for a local provider, the public price table.
A model with none of these cannot be budgeted and is left out (the snapshot
says so in `unpriced`). The snapshot also holds the workspace's budgets, so a
call in a workspace without any reads nothing more.

Read on every model call, so each process keeps a snapshot per workspace for
a few seconds; the process that changes a source forgets its snapshot at
once and the others catch up within the time-to-live.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..catalog import default_routing_rules
from ..domain import (
    Budget,
    ModelPrice,
    ModelSpec,
    ModelTier,
    PriceSpec,
    ProviderKind,
    ProviderSpec,
    model_ref,
)
from ..domain.routing import Candidate, ChainOrders, Route, RoutingRules
from ..ports import PriceTable, SecretBox, SecretUnreadable
from .deps import Deps

__all__ = ["OFFLINE_PROVIDER", "ModelDirectory", "ModelSource", "Snapshot", "platform_price"]

OFFLINE_PROVIDER = ProviderSpec(
    name="offline",
    kind=ProviderKind.OFFLINE,
    models=[ModelSpec(name="swarmyard-offline-1", tier=ModelTier.FAST)],
)


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Where a candidate's client comes from and how its calls are priced."""

    provider: ProviderSpec
    model: ModelSpec
    api_key: str | None  # None: read from provider.api_key_env by the factory
    price_source: str  # "override", "file", "model", "local" or "public"
    origin: str  # "file", "api" or "builtin"


@dataclass(slots=True)
class Snapshot:
    candidates: list[Candidate]
    sources: dict[str, ModelSource]
    rules: RoutingRules
    rules_source: str  # "workspace", "file" or "default"
    # The workspace's budgets (their counters are read fresh by every call).
    budgets: list[Budget] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    unreadable_keys: list[str] = field(default_factory=list)
    _orders: ChainOrders | None = field(default=None, repr=False, compare=False)

    def chain(self, route: Route) -> list[Candidate]:
        """`build_chain(route, candidates)`, each tier sorted once per snapshot
        (made when the snapshot is complete: its first decision)."""
        if self._orders is None:
            self._orders = ChainOrders(self.candidates)
        return self._orders.chain(route)


class ModelDirectory:
    def __init__(
        self,
        deps: Deps,
        *,
        file_providers: list[ProviderSpec],
        file_keys: dict[str, str] | None = None,
        file_prices: dict[str, PriceSpec],
        file_rules: RoutingRules | None,
        prices: PriceTable,
        secrets: SecretBox,
        offline_fallback: bool = True,
        builtin_providers: list[ProviderSpec] | None = None,
        ttl_seconds: float = 5.0,
    ) -> None:
        self._d = deps
        self._file_providers = [p for p in file_providers if p.enabled]
        self._builtin = list(builtin_providers or [])
        # Disabled ones too: their names stay reserved for the file.
        self._file_names = (
            {p.name for p in file_providers}
            | {p.name for p in self._builtin}
            | {OFFLINE_PROVIDER.name}
        )
        self._file_keys = file_keys or {}
        self._file_prices = file_prices
        self._file_rules = file_rules
        self._table = prices
        self._secrets = secrets
        self._offline = offline_fallback
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, Snapshot]] = {}

    @property
    def file_provider_names(self) -> set[str]:
        return self._file_names

    def invalidate(self, workspace_id: str) -> None:
        self._cache.pop(workspace_id, None)

    def check_file_prices(self) -> list[str]:
        """Models of the platform file that no price source knows (start-up check)."""
        return [
            model_ref(p.name, m.name)
            for p in [*self._file_providers, *self._builtin]
            for m in p.models
            if self._price(p, m, {}) is None
        ]

    def price_known(self, provider: ProviderSpec, model: ModelSpec) -> bool:
        return self._price(provider, model, {}) is not None

    async def snapshot(self, workspace_id: str) -> Snapshot:
        hit = self._cache.get(workspace_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        snap = await self._load(workspace_id)
        self._cache[workspace_id] = (now, snap)
        return snap

    async def _load(self, workspace_id: str) -> Snapshot:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            stored = await uow.providers.list()
            overrides = {p.model_ref: p for p in await uow.prices.list()}
            custom_rules = await uow.settings.get("routing")
            budgets = await uow.budgets.list()
        snap = Snapshot(
            candidates=[],
            sources={},
            rules=default_routing_rules(),
            rules_source="default",
            budgets=budgets,
        )
        if custom_rules is not None:
            snap.rules, snap.rules_source = RoutingRules.model_validate(custom_rules), "workspace"
        elif self._file_rules is not None:
            snap.rules, snap.rules_source = self._file_rules, "file"
        entries: list[tuple[ProviderSpec, str | None, str]] = [
            (p, self._file_keys.get(p.name), "file") for p in self._file_providers
        ]
        for record in stored:
            if not record.spec.enabled:
                continue
            key = None
            if record.sealed_key is not None:
                try:
                    key = self._secrets.open(record.sealed_key)
                except SecretUnreadable:
                    snap.unreadable_keys.append(record.spec.name)
                    continue
            entries.append((record.spec, key, "api"))
        entries += [(p, None, "builtin") for p in self._builtin]
        if self._offline:
            entries.append((OFFLINE_PROVIDER, None, "builtin"))
        for provider, key, origin in entries:
            for model in provider.models:
                self._add(snap, provider, model, key=key, origin=origin, overrides=overrides)
        return snap

    def _add(
        self,
        snap: Snapshot,
        provider: ProviderSpec,
        model: ModelSpec,
        *,
        key: str | None,
        origin: str,
        overrides: dict[str, ModelPrice],
    ) -> None:
        ref = model_ref(provider.name, model.name)
        if ref in snap.sources:  # a name taken twice: the first source wins
            return
        priced = self._price(provider, model, overrides)
        if priced is None:
            snap.unpriced.append(ref)
            return
        (inp, out, cached), source = priced
        snap.sources[ref] = ModelSource(provider, model, key, source, origin)
        snap.candidates.append(
            Candidate(
                ref=ref,
                provider=provider.name,
                model=model.name,
                tier=model.tier,
                input_per_mtok=inp,
                output_per_mtok=out,
                cached_input_per_mtok=cached,
                max_output_tokens=model.max_output_tokens,
                local=provider.is_local,
                offline=provider.kind is ProviderKind.OFFLINE,
                last_resort=provider.kind is ProviderKind.LOCAL,
                tool_calls=model.tool_calls,
            )
        )

    def _price(
        self, provider: ProviderSpec, model: ModelSpec, overrides: dict[str, ModelPrice]
    ) -> Priced | None:
        ref = model_ref(provider.name, model.name)
        if ref in overrides:
            o = overrides[ref]
            return (o.input_per_mtok, o.output_per_mtok, o.cached_input_per_mtok), "override"
        return platform_price(provider, model, self._file_prices, self._table)


# (input, output, cached input) USD per Mtok, and where the price came from.
Priced = tuple[tuple[float, float, float], str]


def platform_price(
    provider: ProviderSpec, model: ModelSpec, file_prices: dict[str, PriceSpec], table: PriceTable
) -> Priced | None:
    """A model's price before any workspace's override: the platform file's,
    the model's own, zero for a local provider, the public table's."""
    ref = model_ref(provider.name, model.name)
    for spec, source in ((file_prices.get(ref), "file"), (model.price, "model")):
        if spec is not None:
            return (
                (spec.input_per_mtok, spec.output_per_mtok, spec.cached_input_per_mtok),
                source,
            )
    if provider.is_local:
        return (0.0, 0.0, 0.0), "local"
    if provider.kind.has_public_prices:
        listed = table.price(provider.kind.value, model.name)
        if listed is not None:
            return (
                (listed.input_per_mtok, listed.output_per_mtok, listed.cached_input_per_mtok),
                "public",
            )
    return None

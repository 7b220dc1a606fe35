"""Which models may serve a call, in which order: routing rules, the fallback
chain, and how a budget's state reorders it.

Pure functions over plain data, so the router's decision can be tested (and
benchmarked) without a provider or a database:

1. `RoutingRules.route` — the first rule matching the call's role, task type
   and complexity names the tier it needs (and maybe explicit models);
   without a match the role's manifest preference decides.
2. `build_chain` — preferred models first, then the needed tier, then the
   nearest other tiers (lower before higher), local models after paid ones
   of the same tier; then the free local tier (a model llama.cpp runs on
   this machine, the platform's own), and the offline model last as the
   last resort.
3. `apply_budget` — normal keeps the chain; economy (above 80%) puts the
   cheapest candidate meeting the needed tier first; exceeded keeps only
   the cheapest candidates (free local models by default).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .budget import BudgetTier
from .manifest import Complexity, ModelTier
from .memo import BoundedMemo

__all__ = [
    "TIER_RANK",
    "Candidate",
    "ChainOrders",
    "Route",
    "RouteRule",
    "RouteWhen",
    "RouterOptions",
    "RoutingRules",
    "apply_budget",
    "build_chain",
    "worst_case_microusd",
    "worst_cases",
]

TIER_RANK = {ModelTier.FAST: 0, ModelTier.MID: 1, ModelTier.PREMIUM: 2}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RouterOptions(_Strict):
    """How the router retries, backs off and trips breakers (platform file `[router]`)."""

    # Open a provider's circuit after this many consecutive failed calls…
    breaker_threshold: int = Field(default=5, ge=1, le=1000)
    # …and try it again after this many seconds.
    breaker_cooldown_seconds: float = Field(default=30.0, gt=0, le=86_400)
    # Retries back off exponentially from `backoff_base_seconds` up to
    # `backoff_max_seconds`, with full jitter.
    backoff_base_seconds: float = Field(default=0.5, ge=0, le=60)
    backoff_max_seconds: float = Field(default=8.0, ge=0, le=600)
    # A Retry-After longer than this moves on to the next model instead of waiting.
    max_retry_wait_seconds: float = Field(default=30.0, ge=0, le=3600)
    # A reservation whose worker died is released after this long.
    reservation_ttl_seconds: float = Field(default=900.0, gt=0, le=86_400)
    # The built-in offline model ends every fallback chain. Unset: it does
    # unless the free local tier (a `local` provider) ends them instead.
    offline_fallback: bool | None = None


class RouteWhen(_Strict):
    """A rule matches when every given condition holds (an empty list: any)."""

    roles: list[str] = Field(default_factory=list, max_length=50)
    task_types: list[str] = Field(default_factory=list, max_length=50)
    complexity: list[Complexity] = Field(default_factory=list)
    min_complexity: Complexity | None = None

    def matches(self, role: str, task_type: str, complexity: Complexity | None) -> bool:
        if self.roles and role not in self.roles:
            return False
        if self.task_types and task_type not in self.task_types:
            return False
        if self.complexity and complexity not in self.complexity:
            return False
        return not (
            self.min_complexity is not None
            and (complexity is None or complexity.rank < self.min_complexity.rank)
        )


class RouteRule(_Strict):
    name: str = Field(min_length=1, max_length=100)
    when: RouteWhen = Field(default_factory=RouteWhen)
    tier: ModelTier | None = None
    # Explicit models ("provider:model") tried before the tier's.
    models: list[str] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=500)


# Distinct (role, task type, complexity, tier, preference) routes kept per
# rule set: a workspace has a few dozen; past this the oldest are forgotten.
_ROUTES_KEPT = 1024


class RoutingRules(_Strict):
    rules: list[RouteRule] = Field(default_factory=list, max_length=200)
    # The rules are frozen, so a route depends on its question alone: every
    # model call asks, and most ask what the previous one asked.
    _routes: BoundedMemo[tuple[object, ...], Route] = PrivateAttr(
        default_factory=lambda: BoundedMemo(_ROUTES_KEPT)
    )

    def route(
        self,
        *,
        role: str,
        task_type: str,
        complexity: Complexity | None,
        role_tier: ModelTier,
        role_preferred: Sequence[str] = (),
    ) -> Route:
        key = (role, task_type, complexity, role_tier, tuple(role_preferred))
        # Straight from the private dict: `self._routes` goes through
        # pydantic's __getattr__, which costs more than the route itself.
        routes: BoundedMemo[tuple[object, ...], Route] = self.__pydantic_private__["_routes"]  # type: ignore[index]
        found = routes.get(key)
        if found is None:
            found = routes.put(
                key, self._first_match(role, task_type, complexity, role_tier, role_preferred)
            )
        return found

    def _first_match(
        self,
        role: str,
        task_type: str,
        complexity: Complexity | None,
        role_tier: ModelTier,
        role_preferred: Sequence[str],
    ) -> Route:
        for rule in self.rules:
            if rule.when.matches(role, task_type, complexity):
                tier = rule.tier or role_tier
                return Route(
                    tier=tier,
                    preferred=(*rule.models, *role_preferred),
                    reason=f"rule {rule.name!r} → {tier.value} tier",
                )
        return Route(
            tier=role_tier,
            preferred=tuple(role_preferred),
            reason=f"the {role} role's preference → {role_tier.value} tier",
        )


@dataclass(frozen=True, slots=True)
class Route:
    tier: ModelTier
    preferred: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """One model the router may call, with what it costs."""

    ref: str  # "provider:model"
    provider: str
    model: str
    tier: ModelTier
    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float
    max_output_tokens: int
    local: bool = False
    offline: bool = False
    # The free local tier: after every other configured model, before the offline one.
    last_resort: bool = False
    # False: the model answers in text only and is sent no tool definitions.
    tool_calls: bool = True

    @property
    def free(self) -> bool:
        return self.input_per_mtok == 0 and self.output_per_mtok == 0


def worst_case_microusd(candidate: Candidate, prompt_tokens: int, max_output: int) -> int:
    """The most a call can cost: every prompt token at the full input price
    (no cache discount) and the whole output cap. Rounded up."""
    out = min(max_output, candidate.max_output_tokens)
    return math.ceil(prompt_tokens * candidate.input_per_mtok + out * candidate.output_per_mtok)


def worst_cases(
    chain: Sequence[Candidate], prompt_tokens: int, max_tokens: int | None
) -> dict[str, int]:
    """`worst_case_microusd` of every candidate, the output capped at
    `max_tokens` (None: each model's own cap), in one pass: the router prices
    the whole chain at every call."""
    ceil = math.ceil
    if max_tokens is None:
        return {
            c.ref: ceil(prompt_tokens * c.input_per_mtok + c.max_output_tokens * c.output_per_mtok)
            for c in chain
        }
    return {
        c.ref: ceil(
            prompt_tokens * c.input_per_mtok
            + min(max_tokens, c.max_output_tokens) * c.output_per_mtok
        )
        for c in chain
    }


def build_chain(route: Route, models: Sequence[Candidate]) -> list[Candidate]:
    """Order every available model for this route (see the module doc)."""
    return ChainOrders(models).chain(route)


def _tier_order(models: Sequence[Candidate], want: ModelTier) -> list[Candidate]:
    rank = TIER_RANK[want]

    def order(indexed: tuple[int, Candidate]) -> tuple[int, int, int, int, int]:
        i, c = indexed
        distance = TIER_RANK[c.tier] - rank
        # Same tier first, then lower tiers nearest first, then higher tiers.
        tier_order = 0 if distance == 0 else (-distance if distance < 0 else 10 + distance)
        return (int(c.offline), int(c.last_resort), tier_order, int(c.local), i)

    return [c for _, c in sorted(enumerate(models), key=order)]


class ChainOrders:
    """`build_chain` over one fixed list of models (a directory snapshot's),
    each tier's order sorted once: a decision then only moves the route's
    preferred models to the front."""

    __slots__ = ("_by_ref", "_by_tier", "_models")

    def __init__(self, models: Sequence[Candidate]) -> None:
        self._models = tuple(models)
        self._by_ref = {c.ref: c for c in self._models}
        self._by_tier: dict[ModelTier, list[Candidate]] = {}

    def chain(self, route: Route) -> list[Candidate]:
        ordered = self._by_tier.get(route.tier)
        if ordered is None:
            ordered = self._by_tier[route.tier] = _tier_order(self._models, route.tier)
        if not route.preferred:
            return list(ordered)
        by_ref = self._by_ref
        first = [by_ref[ref] for ref in dict.fromkeys(route.preferred) if ref in by_ref]
        if not first:
            return list(ordered)
        seen = {c.ref for c in first}
        return first + [c for c in ordered if c.ref not in seen]


def apply_budget(
    chain: Sequence[Candidate], tier: BudgetTier, needed: ModelTier, cost: dict[str, int]
) -> tuple[list[Candidate], str]:
    """The chain as the budget allows it, and why. `cost` is each candidate's
    worst-case cost for this call."""
    if tier is BudgetTier.NORMAL or not chain:
        return list(chain), ""
    if tier is BudgetTier.ECONOMY:
        # One pass for the cheapest model of the needed tier or above; the
        # first of equals wins, so the chain's own order breaks ties.
        need, at, lowest = TIER_RANK[needed], -1, 0
        for i, c in enumerate(chain):
            if not c.offline and TIER_RANK[c.tier] >= need and (at < 0 or cost[c.ref] < lowest):
                at, lowest = i, cost[c.ref]
        if at < 0:
            return list(chain), "budget above 80%, but no model of the needed tier to save on"
        cheapest = chain[at]
        return [cheapest, *chain[:at], *chain[at + 1 :]], (
            f"budget above 80%: cheapest {needed.value}-tier model {cheapest.ref} first"
        )
    lowest = min(cost[c.ref] for c in chain)
    cheapest_all = [c for c in chain if cost[c.ref] == lowest]
    return cheapest_all, f"budget exceeded: only the cheapest model ({cheapest_all[0].ref})"

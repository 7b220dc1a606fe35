"""The fallback chain sorted once per tier gives the order the rules define,
for any mix of models and preferences, and a remembered route is the route."""

from __future__ import annotations

import random

from swarmyard.catalog import default_routing_rules
from swarmyard.domain import BudgetTier, Complexity, ModelTier
from swarmyard.domain.routing import (
    TIER_RANK,
    Candidate,
    ChainOrders,
    Route,
    RouteRule,
    RouteWhen,
    RoutingRules,
    apply_budget,
    build_chain,
    worst_case_microusd,
    worst_cases,
)

TIERS = list(ModelTier)


def reference_chain(route: Route, models: list[Candidate]) -> list[Candidate]:
    """The order as the module doc states it, written plainly: preferred
    models in their order, then by offline, last resort, tier distance
    (same, lower nearest first, higher), local after paid, listed order."""
    by_ref = {c.ref: c for c in models}
    first = [by_ref[r] for r in dict.fromkeys(route.preferred) if r in by_ref]
    rest = [c for c in models if c not in first]

    def distance(c: Candidate) -> int:
        d = TIER_RANK[c.tier] - TIER_RANK[route.tier]
        return 0 if d == 0 else (-d if d < 0 else 10 + d)

    rest.sort(key=lambda c: (c.offline, c.last_resort, distance(c), c.local, models.index(c)))
    return first + rest


def random_models(rng: random.Random, count: int) -> list[Candidate]:
    return [
        Candidate(
            ref=f"p:m{i}",
            provider="p",
            model=f"m{i}",
            tier=rng.choice(TIERS),
            input_per_mtok=rng.random(),
            output_per_mtok=rng.random(),
            cached_input_per_mtok=0,
            max_output_tokens=1024,
            local=rng.random() < 0.2,
            offline=i == count - 1,
            last_resort=rng.random() < 0.1,
        )
        for i in range(count)
    ]


def test_chains_from_the_sorted_orders_match_the_rule_for_random_mixes() -> None:
    rng = random.Random(7)
    for _ in range(200):
        models = random_models(rng, rng.randint(1, 30))
        orders = ChainOrders(models)
        for _ in range(5):
            preferred = tuple(
                rng.choice([*(c.ref for c in models), "gone:model"])
                for _ in range(rng.randint(0, 3))
            )
            route = Route(tier=rng.choice(TIERS), preferred=preferred, reason="r")
            want = [c.ref for c in reference_chain(route, models)]
            assert [c.ref for c in orders.chain(route)] == want
            assert [c.ref for c in build_chain(route, models)] == want


def test_a_chain_handed_out_is_the_callers_own() -> None:
    models = random_models(random.Random(1), 5)
    orders = ChainOrders(models)
    route = Route(tier=ModelTier.MID, preferred=(), reason="r")
    first = orders.chain(route)
    first.clear()  # what one decision does to its list leaves the next alone
    assert len(orders.chain(route)) == 5


def test_a_remembered_route_answers_as_the_rules_do() -> None:
    rules = RoutingRules(
        rules=[
            RouteRule(
                name="hard bugs",
                when=RouteWhen(task_types=["bugfix"], complexity=[Complexity.HIGH]),
                tier=ModelTier.PREMIUM,
                models=["p:m1"],
            )
        ]
    )
    asks = [
        ("developer", "bugfix", Complexity.HIGH, ModelTier.FAST, ()),
        ("developer", "bugfix", Complexity.LOW, ModelTier.FAST, ()),
        ("tester", "bugfix", Complexity.HIGH, ModelTier.MID, ("p:m2",)),
        ("developer", "bugfix", Complexity.HIGH, ModelTier.FAST, ()),
    ]
    seen = []
    for role, task_type, complexity, tier, preferred in asks * 2:
        seen.append(
            rules.route(
                role=role,
                task_type=task_type,
                complexity=complexity,
                role_tier=tier,
                role_preferred=preferred,
            )
        )
    assert (
        seen[0] == seen[3] == Route(ModelTier.PREMIUM, ("p:m1",), "rule 'hard bugs' → premium tier")
    )
    assert seen[1].tier is ModelTier.FAST
    assert seen[1].preferred == ()
    assert seen[2] == Route(ModelTier.PREMIUM, ("p:m1", "p:m2"), "rule 'hard bugs' → premium tier")
    assert seen[:4] == seen[4:]


def test_the_memo_of_routes_stays_bounded() -> None:
    rules = default_routing_rules()
    for n in range(3000):
        rules.route(
            role=f"role-{n}",
            task_type="feature",
            complexity=Complexity.MEDIUM,
            role_tier=ModelTier.MID,
        )
    assert len(rules._routes) <= 1024


def test_the_chain_priced_at_once_is_each_candidates_worst_case() -> None:
    models = random_models(random.Random(3), 20)
    for cap in (None, 1, 300, 5000):
        priced = worst_cases(models, 1234, cap)
        assert priced == {
            c.ref: worst_case_microusd(c, 1234, c.max_output_tokens if cap is None else cap)
            for c in models
        }


def test_economy_puts_the_first_of_the_cheapest_needed_tier_first() -> None:
    def cand(ref: str, tier: ModelTier, *, offline: bool = False) -> Candidate:
        return Candidate(ref, "p", ref, tier, 0, 0, 0, 1024, offline=offline)

    chain = [
        cand("fast", ModelTier.FAST),
        cand("mid-a", ModelTier.MID),
        cand("premium", ModelTier.PREMIUM),
        cand("mid-b", ModelTier.MID),
        cand("offline", ModelTier.PREMIUM, offline=True),
    ]
    cost = {"fast": 1, "mid-a": 30, "premium": 20, "mid-b": 20, "offline": 0}
    ordered, why = apply_budget(chain, BudgetTier.ECONOMY, ModelTier.MID, cost)
    # The fast model is cheaper but below the needed tier; the offline one is
    # never a saving; premium and mid-b tie, and premium comes first in the chain.
    assert [c.ref for c in ordered] == ["premium", "fast", "mid-a", "mid-b", "offline"]
    assert "premium first" in why
    unchanged, why = apply_budget(chain[:1], BudgetTier.ECONOMY, ModelTier.MID, cost)
    assert [c.ref for c in unchanged] == ["fast"]
    assert "no model of the needed tier" in why

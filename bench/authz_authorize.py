"""How many `authorize` calls per second: run `python bench/authz_authorize.py`.

Not a test (timings vary by machine); it exists so the number quoted in
docs/authorization.md can be measured again after a change to the engine or
an upgrade of cedarpy.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from swarmyard.authz import Resource, ResourceKind, authorize
from swarmyard.authz._engine import _clear_decision_cache
from swarmyard.domain import Principal, Role

RULES = """
@id("no-deploy-cancel")
forbid (principal, action == Swarmyard::Action::"task.cancel", resource is Swarmyard::Task)
when { principal.role == "member" && resource has type && resource.type == "deploy" };
"""


def rate(label: str, call: Callable[[], object], rounds: int = 5, seconds: float = 0.3) -> None:
    """Best of `rounds`: other processes on the machine only ever slow a round down."""
    for _ in range(200):  # warm the caches and the parsed policy sets
        call()
    best = 0.0
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(100):
                call()
            count += 100
        best = max(best, count / elapsed)
    print(f"{label:<56} {best:>10,.0f}/s  {1e6 / best:7.1f} µs/call")


def main() -> None:
    member = Principal("user", "u1", "ws1", Role.MEMBER)
    task = Resource(ResourceKind.TASK, "t1", "ws1")
    deploy = Resource(ResourceKind.TASK, "t1", "ws1", {"type": "deploy"})

    def uncached() -> object:
        _clear_decision_cache()
        return authorize(member, "task.cancel", task)

    rate(
        "base policy, memoized decision (the per-request path)",
        lambda: authorize(member, "task.read"),
    )
    rate("base policy, Cedar evaluation (memo cleared each call)", uncached)
    rate(
        "resource attributes (Cedar, never memoized)",
        lambda: authorize(member, "task.cancel", deploy),
    )
    rate(
        "base + workspace forbid rules (Cedar, parsed set reused)",
        lambda: authorize(member, "task.cancel", deploy, workspace_rules=RULES),
    )


if __name__ == "__main__":
    main()

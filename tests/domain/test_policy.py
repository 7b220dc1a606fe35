"""Policies fold strictest-wins and every decision names the rule that made it."""

from __future__ import annotations

import pytest

from swarmyard.domain import Problem, ValidationFailed
from swarmyard.domain.policy import (
    EffectivePolicy,
    Exposure,
    Policy,
    PolicyScope,
    ToolVerdict,
    UntrustedEgress,
    decide_tool,
    effective_policy,
    validate_policy,
)

NONE: frozenset[str] = frozenset()
EGRESS = frozenset({"egress", "untrusted_content"})
TAINTED = Exposure(read_private=True, untrusted=True)


def policy(name: str, **fields: object) -> Policy:
    return Policy(id=f"pol_{name}", workspace_id="ws", name=name, **fields)  # type: ignore[arg-type]


def for_developer(*policies: Policy, agent: str | None = "agent_1") -> EffectivePolicy:
    return effective_policy(policies, role="developer", agent_id=agent)


def test_no_policy_allows_everything_but_tainted_egress() -> None:
    e = for_developer()
    assert decide_tool(e, "fs.read", NONE, Exposure()).allowed
    assert decide_tool(e, "http.fetch", EGRESS, Exposure(read_private=True)).allowed
    tainted = decide_tool(e, "http.fetch", EGRESS, TAINTED)
    assert tainted.verdict is ToolVerdict.APPROVE
    assert tainted.rule == "default: untrusted_egress"


def test_only_policies_of_the_role_or_agent_apply() -> None:
    others = [
        policy("qa", scope=PolicyScope.ROLE, scope_id="tester", denied_tools=["fs.read"]),
        policy("bot", scope=PolicyScope.AGENT, scope_id="agent_2", denied_tools=["fs.read"]),
        policy("off", enabled=False, denied_tools=["fs.read"]),
    ]
    assert decide_tool(for_developer(*others), "fs.read", NONE, Exposure()).allowed
    mine = policy("dev", scope=PolicyScope.AGENT, scope_id="agent_1", denied_tools=["fs.*"])
    decision = decide_tool(for_developer(*others, mine), "fs.read", NONE, Exposure())
    assert decision.verdict is ToolVerdict.DENY
    assert decision.rule == "policy 'dev': denied_tools 'fs.*'"


def test_a_tool_must_be_in_every_allow_list() -> None:
    e = for_developer(
        policy("ws", allowed_tools=["fs.*", "git.*"]),
        policy("dev", scope=PolicyScope.ROLE, scope_id="developer", allowed_tools=["fs.*"]),
    )
    assert decide_tool(e, "fs.write", NONE, Exposure()).allowed
    refused = decide_tool(e, "git.commit", NONE, Exposure())
    assert (refused.verdict, refused.rule) == (ToolVerdict.DENY, "policy 'dev': allowed_tools")
    # An empty allow-list allows nothing.
    assert not decide_tool(
        for_developer(policy("none", allowed_tools=[])), "x", NONE, Exposure()
    ).allowed


def test_the_strictest_limit_wins_and_names_its_policy() -> None:
    e = for_developer(
        policy("ws", max_steps=40, max_cost_microusd_per_run=5_000_000, max_delegation_depth=3),
        policy("dev", scope=PolicyScope.ROLE, scope_id="developer", max_steps=10),
    )
    assert e.max_steps is not None
    assert (e.max_steps.value, e.max_steps.policy) == (10, "dev")
    assert e.max_cost_microusd is not None
    assert e.max_cost_microusd.policy == "ws"
    assert e.max_delegation_depth is not None
    assert e.max_delegation_depth.value == 3
    assert e.max_steps.rule("max_steps") == "policy 'dev': max_steps"


def test_feature_gates_refuse_the_tools_that_need_them() -> None:
    e = for_developer(
        policy("quiet", features={"egress": False, "delegation": False, "mcp": False})
    )
    assert (
        decide_tool(e, "http.fetch", EGRESS, Exposure()).rule == "policy 'quiet': features.egress"
    )
    assert (
        decide_tool(e, "delegate", NONE, Exposure()).rule == "policy 'quiet': features.delegation"
    )
    assert decide_tool(e, "mcp.time.now", NONE, Exposure()).rule == "policy 'quiet': features.mcp"
    assert decide_tool(e, "fs.read", frozenset({"reads_private"}), Exposure()).allowed


def test_commands_without_a_sandbox_need_a_policy_that_allows_them() -> None:
    command = frozenset({"command", "side_effect"})
    refused = decide_tool(for_developer(), "sandbox.run", command, Exposure(), sandboxed=False)
    assert (refused.verdict, refused.rule) == (ToolVerdict.DENY, "sandbox: none available")
    lax = for_developer(policy("lab", allow_unsandboxed=True))
    assert decide_tool(lax, "sandbox.run", command, Exposure(), sandboxed=False).allowed
    assert decide_tool(for_developer(), "sandbox.run", command, Exposure(), sandboxed=True).allowed
    # A sandbox requirement anywhere outweighs an allowance elsewhere.
    strict = for_developer(
        policy("lab", allow_unsandboxed=True),
        policy("prod", scope=PolicyScope.ROLE, scope_id="developer", sandbox_required=True),
    )
    refused = decide_tool(strict, "sandbox.run", command, Exposure(), sandboxed=False)
    assert refused.rule == "policy 'prod': sandbox_required"


def test_approval_tools_and_the_untrusted_egress_setting() -> None:
    e = for_developer(policy("care", approval_tools=["git.commit"]))
    decision = decide_tool(e, "git.commit", frozenset({"side_effect"}), Exposure())
    assert (decision.verdict, decision.rule) == (
        ToolVerdict.APPROVE,
        "policy 'care': approval_tools 'git.commit'",
    )
    deny = for_developer(policy("locked", untrusted_egress=UntrustedEgress.DENY))
    assert decide_tool(deny, "http.fetch", EGRESS, TAINTED).verdict is ToolVerdict.DENY
    # A laxer setting elsewhere does not undo a stricter one.
    mixed = for_developer(
        policy("locked", untrusted_egress=UntrustedEgress.DENY),
        policy(
            "dev",
            scope=PolicyScope.ROLE,
            scope_id="developer",
            untrusted_egress=UntrustedEgress.ALLOW,
        ),
    )
    assert (
        decide_tool(mixed, "http.fetch", EGRESS, TAINTED).rule
        == "policy 'locked': untrusted_egress"
    )
    accept = for_developer(policy("risky", untrusted_egress=UntrustedEgress.ALLOW))
    assert decide_tool(accept, "http.fetch", EGRESS, TAINTED).allowed


def test_exposure_accumulates() -> None:
    seen = Exposure().after(frozenset({"reads_private"})).after(NONE)
    assert seen == Exposure(read_private=True)
    assert seen.after(frozenset({"untrusted_content"})) == TAINTED


def test_every_problem_of_a_policy_is_named_at_once() -> None:
    bad = policy(
        "Bad Name",
        scope=PolicyScope.ROLE,
        denied_tools=["fs read"],
        max_steps=0,
        features={"teleport": False},
        approval_timeout_seconds=5,
    )
    with pytest.raises(ValidationFailed) as caught:
        validate_policy(bad)
    paths = {p.path for p in caught.value.problems}
    assert paths == {
        "name",
        "scope_id",
        "denied_tools[0]",
        "max_steps",
        "features.teleport",
        "approval_timeout_seconds",
    }
    assert all(isinstance(p, Problem) and p.reason for p in caught.value.problems)
    validate_policy(policy("fine", scope=PolicyScope.ROLE, scope_id="developer", max_steps=5))

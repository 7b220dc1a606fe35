"""Policies: what a run may do, checked on the host, not asked of the model.

A policy applies to a whole workspace, to one role or to one agent. The
policies that apply to a run are folded into one `EffectivePolicy`, the
strictest value of each setting winning, so adding a policy can only take
permissions away: a role's policy cannot re-allow what the workspace's
denies. Each limit remembers which policy set it, so a denial names the
rule that made it.

Tool decisions also look at what the run has already touched
(`Exposure`): a run that has read private data *and* taken in untrusted
content (a web page, a file of unknown origin, an MCP result) is one prompt
injection away from sending the first to whoever wrote the second, so its
egress tools need a person's approval (or are refused), whatever the model
says.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from .errors import Problem, ValidationFailed

__all__ = [
    "FEATURES",
    "TOOL_EFFECTS",
    "EffectivePolicy",
    "Exposure",
    "Limit",
    "Policy",
    "PolicyScope",
    "ToolDecision",
    "ToolVerdict",
    "UntrustedEgress",
    "decide_tool",
    "effective_policy",
    "validate_policy",
]


class PolicyScope(StrEnum):
    WORKSPACE = "workspace"
    ROLE = "role"
    AGENT = "agent"


class UntrustedEgress(StrEnum):
    """What happens to an egress tool once a run holds private data and untrusted content."""

    APPROVE = "approve"  # a person decides (the default)
    DENY = "deny"
    ALLOW = "allow"  # the workspace accepts the risk; said so in the run's events


# What a tool does, as its spec declares it; the gate reasons about these.
TOOL_EFFECTS = frozenset(
    {
        "egress",  # sends data off the host (HTTP, mail, a remote MCP server)
        "reads_private",  # reads the workspace's own data (files, memory, repos)
        "untrusted_content",  # brings in text an outsider may have written
        "side_effect",  # changes something (a file, a commit, a message)
        "command",  # runs a program
    }
)

# Feature gates: a feature switched off refuses every tool that needs it.
FEATURES = frozenset({"delegation", "egress", "commands", "mcp", "side_effects"})

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_TOOL_GLOB = re.compile(r"^[A-Za-z0-9_.*?-]{1,128}$")
MAX_STEPS = 1000
MAX_DEPTH = 20


@dataclass(slots=True)
class Policy:
    id: str
    workspace_id: str
    name: str
    scope: PolicyScope = PolicyScope.WORKSPACE
    scope_id: str = ""  # the role name or agent id; "" for the workspace
    enabled: bool = True
    # Tool name patterns (shell-style: "mcp.*", "fs.*"). None: this policy
    # does not restrict which tools exist; a list, even empty, does.
    allowed_tools: list[str] | None = None
    denied_tools: list[str] = field(default_factory=list)
    approval_tools: list[str] = field(default_factory=list)
    sandbox_required: bool = False
    allow_unsandboxed: bool = False
    max_cost_microusd_per_run: int | None = None
    max_steps: int | None = None
    max_delegation_depth: int | None = None
    features: dict[str, bool] = field(default_factory=dict)
    untrusted_egress: UntrustedEgress = UntrustedEgress.APPROVE
    approval_timeout_seconds: int = 3600
    created_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: str = ""

    def applies_to(self, role: str, agent_id: str | None) -> bool:
        if not self.enabled:
            return False
        if self.scope is PolicyScope.WORKSPACE:
            return True
        if self.scope is PolicyScope.ROLE:
            return self.scope_id == role
        return agent_id is not None and self.scope_id == agent_id


@dataclass(frozen=True, slots=True)
class Limit:
    """A number a policy sets, and which policy set it."""

    value: int
    policy: str

    def rule(self, setting: str) -> str:
        return f"policy {self.policy!r}: {setting}"


def _matches(name: str, patterns: Iterable[str]) -> str | None:
    return next((p for p in patterns if fnmatch.fnmatchcase(name, p)), None)


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """Every applicable policy folded together; the strictest setting wins."""

    # Each policy's allow-list, by policy name: a tool must match all of them.
    allow_lists: tuple[tuple[str, tuple[str, ...]], ...] = ()
    denied: tuple[tuple[str, str], ...] = ()  # (policy, pattern)
    approval: tuple[tuple[str, str], ...] = ()
    sandbox_required: str | None = None  # the policy that requires it
    unsandboxed_allowed_by: str | None = None
    unsandboxed_refused_by: str | None = None
    max_cost_microusd: Limit | None = None
    max_steps: Limit | None = None
    max_delegation_depth: Limit | None = None
    features_off: tuple[tuple[str, str], ...] = ()  # (feature, policy)
    untrusted_egress: UntrustedEgress = UntrustedEgress.APPROVE
    untrusted_egress_policy: str | None = None
    approval_timeout_seconds: int = 3600
    policies: tuple[str, ...] = ()

    @property
    def may_run_unsandboxed(self) -> bool:
        """Commands without a sandbox only when a policy says so and none refuses."""
        return self.unsandboxed_allowed_by is not None and self.unsandboxed_refused_by is None

    def feature_off(self, feature: str) -> str | None:
        return next((p for f, p in self.features_off if f == feature), None)


def _stricter(current: Limit | None, value: int | None, policy: str) -> Limit | None:
    if value is None:
        return current
    if current is None or value < current.value:
        return Limit(value, policy)
    return current


_EGRESS_ORDER = {UntrustedEgress.ALLOW: 0, UntrustedEgress.APPROVE: 1, UntrustedEgress.DENY: 2}


def effective_policy(
    policies: Sequence[Policy], *, role: str, agent_id: str | None
) -> EffectivePolicy:
    """Fold the enabled policies that apply to `role`/`agent_id`, workspace first."""
    order = {PolicyScope.WORKSPACE: 0, PolicyScope.ROLE: 1, PolicyScope.AGENT: 2}
    applicable = sorted(
        (p for p in policies if p.applies_to(role, agent_id)),
        key=lambda p: (order[p.scope], p.name),
    )
    e = EffectivePolicy()
    egress_set = False
    for p in applicable:
        e = replace(
            e,
            allow_lists=e.allow_lists
            + (((p.name, tuple(p.allowed_tools)),) if p.allowed_tools is not None else ()),
            denied=e.denied + tuple((p.name, t) for t in p.denied_tools),
            approval=e.approval + tuple((p.name, t) for t in p.approval_tools),
            sandbox_required=e.sandbox_required or (p.name if p.sandbox_required else None),
            unsandboxed_allowed_by=e.unsandboxed_allowed_by
            or (p.name if p.allow_unsandboxed else None),
            max_cost_microusd=_stricter(e.max_cost_microusd, p.max_cost_microusd_per_run, p.name),
            max_steps=_stricter(e.max_steps, p.max_steps, p.name),
            max_delegation_depth=_stricter(e.max_delegation_depth, p.max_delegation_depth, p.name),
            features_off=e.features_off
            + tuple((f, p.name) for f, on in sorted(p.features.items()) if not on),
            approval_timeout_seconds=min(e.approval_timeout_seconds, p.approval_timeout_seconds),
            policies=(*e.policies, p.name),
        )
        # A sandbox requirement refuses unsandboxed commands, whoever allowed them.
        if p.sandbox_required and e.unsandboxed_refused_by is None:
            e = replace(e, unsandboxed_refused_by=p.name)
        if not egress_set or _EGRESS_ORDER[p.untrusted_egress] > _EGRESS_ORDER[e.untrusted_egress]:
            e = replace(e, untrusted_egress=p.untrusted_egress, untrusted_egress_policy=p.name)
            egress_set = True
    return e


@dataclass(frozen=True, slots=True)
class Exposure:
    """What a run has taken in so far, from the effects of the tools it called."""

    read_private: bool = False
    untrusted: bool = False

    def after(self, effects: frozenset[str]) -> Exposure:
        return Exposure(
            read_private=self.read_private or "reads_private" in effects,
            untrusted=self.untrusted or "untrusted_content" in effects,
        )


class ToolVerdict(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    APPROVE = "approve"  # allowed once a person approves this call


@dataclass(frozen=True, slots=True)
class ToolDecision:
    verdict: ToolVerdict
    rule: str = ""  # names the policy and setting that decided, for the run's events
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict is ToolVerdict.ALLOW


_FEATURE_OF_EFFECT = {"egress": "egress", "command": "commands", "side_effect": "side_effects"}


def decide_tool(
    policy: EffectivePolicy,
    tool: str,
    effects: frozenset[str],
    exposure: Exposure,
    *,
    sandboxed: bool = True,
) -> ToolDecision:
    """Whether a run may call `tool` now. `sandboxed`: whether a command tool
    would run inside a sandbox on this host."""
    deny, approve = ToolVerdict.DENY, ToolVerdict.APPROVE
    if hit := next(((p, t) for p, t in policy.denied if fnmatch.fnmatchcase(tool, t)), None):
        return ToolDecision(
            deny, f"policy {hit[0]!r}: denied_tools {hit[1]!r}", f"{tool} is denied"
        )
    for name, allowed in policy.allow_lists:
        if _matches(tool, allowed) is None:
            return ToolDecision(
                deny, f"policy {name!r}: allowed_tools", f"{tool} is not among the allowed tools"
            )
    gated = ["mcp"] if tool.startswith("mcp.") else []
    gated += ["delegation"] if tool == "delegate" else []
    gated += [f for e, f in _FEATURE_OF_EFFECT.items() if e in effects]
    for feature in gated:
        if (owner := policy.feature_off(feature)) is not None:
            return ToolDecision(
                deny, f"policy {owner!r}: features.{feature}", f"the {feature} feature is off"
            )
    if "command" in effects and not sandboxed and not policy.may_run_unsandboxed:
        owner = policy.unsandboxed_refused_by or policy.sandbox_required
        rule = f"policy {owner!r}: sandbox_required" if owner else "sandbox: none available"
        return ToolDecision(
            deny, rule, "no sandbox is available and no policy allows unsandboxed commands"
        )
    if hit := next(((p, t) for p, t in policy.approval if fnmatch.fnmatchcase(tool, t)), None):
        return ToolDecision(
            approve, f"policy {hit[0]!r}: approval_tools {hit[1]!r}", f"{tool} needs approval"
        )
    if "egress" in effects and exposure.read_private and exposure.untrusted:
        owner = policy.untrusted_egress_policy
        rule = f"policy {owner!r}: untrusted_egress" if owner else "default: untrusted_egress"
        reason = "the run has read private data and untrusted content; sending data out"
        if policy.untrusted_egress is UntrustedEgress.DENY:
            return ToolDecision(deny, rule, f"{reason} is refused")
        if policy.untrusted_egress is UntrustedEgress.APPROVE:
            return ToolDecision(approve, rule, f"{reason} needs a person's approval")
    return ToolDecision(ToolVerdict.ALLOW)


def _patterns(field_name: str, values: Iterable[str] | None, problems: list[Problem]) -> None:
    for i, pattern in enumerate(values or ()):
        if not _TOOL_GLOB.match(pattern):
            problems.append(
                Problem(f"{field_name}[{i}]", "a tool name or pattern: letters, digits, _ . - * ?")
            )


def validate_policy(p: Policy) -> None:
    """Raise `ValidationFailed` naming every problem of a policy at once."""
    problems: list[Problem] = []
    if not _NAME.match(p.name):
        problems.append(Problem("name", "1-64 of a-z 0-9 _ . -, starting with a letter or digit"))
    if p.scope is PolicyScope.WORKSPACE and p.scope_id:
        problems.append(Problem("scope_id", "a workspace policy has no scope_id"))
    if p.scope is not PolicyScope.WORKSPACE and not p.scope_id:
        problems.append(Problem("scope_id", f"name the {p.scope.value} this policy is for"))
    _patterns("allowed_tools", p.allowed_tools, problems)
    _patterns("denied_tools", p.denied_tools, problems)
    _patterns("approval_tools", p.approval_tools, problems)
    if p.max_cost_microusd_per_run is not None and p.max_cost_microusd_per_run < 0:
        problems.append(Problem("max_cost_usd_per_run", "must be 0 or more"))
    if p.max_steps is not None and not 1 <= p.max_steps <= MAX_STEPS:
        problems.append(Problem("max_steps", f"between 1 and {MAX_STEPS}"))
    if p.max_delegation_depth is not None and not 0 <= p.max_delegation_depth <= MAX_DEPTH:
        problems.append(Problem("max_delegation_depth", f"between 0 and {MAX_DEPTH}"))
    for name in sorted(set(p.features) - FEATURES):
        problems.append(
            Problem(f"features.{name}", f"unknown feature; known: {', '.join(sorted(FEATURES))}")
        )
    if not 60 <= p.approval_timeout_seconds <= 7 * 86400:
        problems.append(Problem("approval_timeout_seconds", "between 60 and 604800 (a week)"))
    if problems:
        raise ValidationFailed("policy", problems)

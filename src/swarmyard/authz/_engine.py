"""`authorize`: one question, asked on every request, answered by Cedar.

This is the only place that turns a `Principal`, an action name and a
`Resource` into Cedar entities and a request, so the shape the policies see
(entity types, attribute names) is defined once. It also owns the two
performance measures that make per-request authorization cheap: the policy
sets are parsed once (see `_policies`), and decisions of the base policy are
memoized on the few facts they can depend on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import cedarpy

from ..domain import Principal, Role
from ._actions import action_info
from ._policies import (
    ACTION_TYPE,
    NAMESPACE,
    CompiledPolicies,
    base_policies,
    policies_with_rules,
)
from ._resources import Resource, ResourceKind

__all__ = ["Decision", "authorize"]

_API_KEY_TYPE = f"{NAMESPACE}::ApiKey"
_PRINCIPAL_TYPES = {"user": f"{NAMESPACE}::User", "api_key": _API_KEY_TYPE}

# (principal type, role, action, resource kind, same workspace) -> decision.
# At most 2 x 4 x |ACTIONS| x |ResourceKind| x 2 entries (a few thousand), all
# validated before they become keys, so the dict needs no eviction.
_CacheKey = tuple[str, str, str, ResourceKind, bool]
_decisions: dict[_CacheKey, Decision] = {}

_NO_PERMIT = "no policy permits"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer, and the rule that gave it (or why none did), for logs and 403 bodies."""

    allowed: bool
    reason: str


def authorize(
    principal: Principal,
    action: str,
    resource: Resource | None = None,
    *,
    workspace_rules: str = "",
) -> Decision:
    """May `principal` perform `action` on `resource` (default: its own workspace)?

    `workspace_rules` is the workspace's extra Cedar text (forbid rules only),
    evaluated together with the base policy. An unknown action, principal kind
    or malformed resource is a `ValueError`; rules that fail validation raise
    `ValidationFailed`. Neither is ever answered "allowed".
    """
    action_info(action)  # an unknown action raises here, before anything is decided
    principal_type = _PRINCIPAL_TYPES.get(principal.kind)
    if principal_type is None:
        raise ValueError(f"unknown principal kind {principal.kind!r} (expected user or api_key)")
    role = Role(principal.role).value
    if resource is not None and _is_itself(principal_type, principal, resource):
        # Checked before the memo is consulted, so a self-contradicting request
        # fails the same way whether or not its decision was memoized.
        _merged(_principal_attrs(principal, role), _resource_attrs(resource))
    rules = workspace_rules.strip()
    policies = policies_with_rules(rules) if rules else base_policies()

    def ask_cedar() -> Decision:
        target = resource if resource is not None else Resource.workspace(principal.workspace_id)
        return _evaluate(
            policies, principal, action, target, principal_type=principal_type, role=role
        )

    if not policies.memoizable or (resource is not None and resource.attrs):
        return ask_cedar()
    # The per-request path: a dict lookup; no object is built unless Cedar is asked.
    if resource is None:
        key = (principal_type, role, action, ResourceKind.WORKSPACE, True)
    else:
        same_workspace = principal.workspace_id == resource.workspace_id
        key = (principal_type, role, action, resource.kind, same_workspace)
    decision = _decisions.get(key)
    if decision is None:
        decision = _decisions[key] = ask_cedar()
    return decision


def _evaluate(
    policies: CompiledPolicies,
    principal: Principal,
    action: str,
    target: Resource,
    *,
    principal_type: str,
    role: str,
) -> Decision:
    principal_uid = {"type": principal_type, "id": principal.id}
    principal_attrs = _principal_attrs(principal, role)
    resource_attrs = _resource_attrs(target)
    if _is_itself(principal_type, principal, target):
        # An API key acting on itself is one Cedar entity, not two with one uid.
        entities = [_entity(principal_uid, _merged(principal_attrs, resource_attrs))]
        resource_uid = principal_uid
    else:
        resource_uid = {"type": f"{NAMESPACE}::{target.kind.value}", "id": target.id}
        entities = [_entity(principal_uid, principal_attrs), _entity(resource_uid, resource_attrs)]
    request = {
        "principal": principal_uid,
        "action": {"type": ACTION_TYPE, "id": action},
        "resource": resource_uid,
    }
    result = cedarpy.is_authorized(request, policies.policy_set, json.dumps(entities))
    return _decision(result, policies, role, action)


def _is_itself(principal_type: str, principal: Principal, resource: Resource) -> bool:
    return (
        principal_type == _API_KEY_TYPE
        and resource.kind is ResourceKind.API_KEY
        and resource.id == principal.id
    )


def _principal_attrs(principal: Principal, role: str) -> dict[str, Any]:
    return {"role": role, "workspace": principal.workspace_id}


def _resource_attrs(resource: Resource) -> dict[str, Any]:
    return {**_plain(resource.attrs), "workspace": resource.workspace_id}


def _decision(
    result: cedarpy.AuthzResult, policies: CompiledPolicies, role: str, action: str
) -> Decision:
    diagnostics = result.diagnostics
    deciding = [policies.labels.get(pid, pid) for pid in diagnostics.reasons]
    errors = [_readable(error, policies) for error in diagnostics.errors]
    if result.allowed and errors:
        # Cedar skips a policy that fails to evaluate; for a forbid that would
        # mean "allowed" whenever a rule reads a fact the resource lacks.
        # Failing closed keeps a broken rule from becoming a hole.
        return Decision(False, "denied because a rule could not be evaluated: " + "; ".join(errors))
    if result.allowed:
        return Decision(True, "permitted by " + ", ".join(deciding))
    if deciding:
        return Decision(False, "forbidden by " + ", ".join(deciding))
    minimum = action_info(action).minimum_role.value
    reason = f"{_NO_PERMIT} {action!r} for role {role} (needs {minimum} or above)"
    if errors:
        reason += "; " + "; ".join(errors)
    return Decision(False, reason)


def _entity(uid: dict[str, str], attrs: dict[str, Any]) -> dict[str, Any]:
    return {"uid": uid, "attrs": attrs, "parents": []}


def _merged(principal_attrs: dict[str, Any], resource_attrs: dict[str, Any]) -> dict[str, Any]:
    clashes = sorted(
        name
        for name in principal_attrs.keys() & resource_attrs.keys()
        if principal_attrs[name] != resource_attrs[name]
    )
    if clashes:
        raise ValueError(
            "the resource is the calling API key itself but disagrees with it on "
            + ", ".join(clashes)
        )
    return {**resource_attrs, **principal_attrs}


def _plain(value: Any) -> Any:
    """The frozen attribute values of a `Resource` as JSON-ready lists and dicts."""
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return {key: _plain(item) for key, item in value.items()}


def _readable(error: str, policies: CompiledPolicies) -> str:
    for pid, label in policies.labels.items():
        error = error.replace(f"policy `{pid}`", label)
    return error


def _clear_decision_cache() -> None:
    """Forget memoized decisions (tests use it to make Cedar answer afresh)."""
    _decisions.clear()

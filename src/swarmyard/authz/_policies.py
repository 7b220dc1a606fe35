"""Policy text to evaluable policy sets: the base policy, and workspace rules on top.

Cedar parses text into policies named ``policy0``, ``policy1``… in the order
they appear, which would make a decision's reason meaningless and would
collide when the base and a workspace's rules are combined. So every text is
first turned into Cedar's JSON form, each policy is renamed after where it
came from (``base:<@id>``, ``workspace:<n>``), and the combined set is parsed
once and kept. The same JSON form is what workspace rules are checked on:
only `forbid`, only actions and entity types that exist.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import cedarpy

from ..domain import Problem, ValidationFailed
from ._actions import ACTIONS
from ._resources import ResourceKind

__all__ = [
    "ACTION_TYPE",
    "MAX_RULES_CHARS",
    "PRINCIPAL_TYPES",
    "CompiledPolicies",
    "base_policies",
    "base_policy_text",
    "policies_with_rules",
    "validate_workspace_rules",
]

NAMESPACE = "Swarmyard"
ACTION_TYPE = f"{NAMESPACE}::Action"
PRINCIPAL_TYPES = frozenset({f"{NAMESPACE}::User", f"{NAMESPACE}::ApiKey"})
RESOURCE_TYPES = frozenset(f"{NAMESPACE}::{kind.value}" for kind in ResourceKind)
_ENTITY_TYPES = PRINCIPAL_TYPES | RESOURCE_TYPES | {ACTION_TYPE}

# Workspace rules are a handful of forbids; a bound keeps a pathological text
# from costing every request of the workspace a large parse on a cache miss.
MAX_RULES_CHARS = 64_000

# How many distinct workspace rule texts keep their parsed policy set. One per
# workspace in practice; the bound only limits memory.
_RULE_SETS_KEPT = 256

_PARSER_ID = re.compile(r"policy(\d+)")
_PACKAGE = "swarmyard.authz"
_BASE_FILE = "policies.cedar"


@dataclass(frozen=True, slots=True)
class CompiledPolicies:
    """A parsed policy set and what to call each of its policies in a reason.

    `memoizable` is true when the decision depends only on the principal's
    type and role, the action, the resource's kind and whether principal and
    resource share a workspace, so the decision may be reused for any request
    with the same five facts and no resource attributes.
    """

    policy_set: cedarpy.PolicySet
    labels: Mapping[str, str]
    memoizable: bool


def base_policy_text() -> str:
    """The base policy file, as shipped in the package."""
    return resources.files(_PACKAGE).joinpath(_BASE_FILE).read_text(encoding="utf-8")


@functools.cache
def _base_static() -> dict[str, Any]:
    """The base policies in Cedar's JSON form, keyed ``base:<@id>``.

    The file ships with the code, so a policy without a unique ``@id`` is a
    packaging bug and fails loudly at first use rather than producing reasons
    nobody can trace back to a rule.
    """
    static: dict[str, Any] = {}
    for index, (_, policy) in enumerate(_static_policies(_to_json(base_policy_text()))):
        name = policy.get("annotations", {}).get("id")
        if not name:
            raise RuntimeError(f"{_BASE_FILE}: policy {index + 1} has no @id annotation")
        if f"base:{name}" in static:
            raise RuntimeError(f"{_BASE_FILE}: @id {name!r} is used twice")
        static[f"base:{name}"] = policy
    return static


@functools.cache
def base_policies() -> CompiledPolicies:
    """The base policy set alone, parsed once per process."""
    return _compile(_base_static(), {})


@functools.lru_cache(maxsize=_RULE_SETS_KEPT)
def policies_with_rules(rules: str) -> CompiledPolicies:
    """The base policy set plus a workspace's forbid rules, parsed once per distinct text.

    Raises `ValidationFailed` like `validate_workspace_rules`: rules are meant
    to be checked when they are saved, but a text that slipped past (an older
    release, a hand-edited row) must never be half-applied.
    """
    workspace = _checked_rules(rules)
    return _compile(_base_static(), workspace)


def validate_workspace_rules(text: str) -> None:
    """Check a workspace's extra Cedar text; `ValidationFailed("policy", …)` names each problem.

    The text may hold only `forbid` policies: a workspace can narrow what its
    roles allow, never widen it. Actions must be in the catalogue and entity
    types must be ones the engine builds, because a rule naming something that
    never occurs would silently never apply.
    """
    _checked_rules(text)


def _checked_rules(text: str) -> dict[str, Any]:
    """The workspace's rules in JSON form keyed ``workspace:<n>``, or `ValidationFailed`."""
    if len(text) > MAX_RULES_CHARS:
        problem = Problem("", f"rules are {len(text)} characters long; at most {MAX_RULES_CHARS}")
        raise ValidationFailed("policy", [problem])
    try:
        parsed = _to_json(text)
    except ValueError as exc:
        raise ValidationFailed("policy", [Problem("", f"Cedar syntax error: {exc}")]) from None
    problems: list[Problem] = []
    if parsed.get("templates"):
        problems.append(Problem("", "templates (?principal, ?resource) are not supported"))
    rules: dict[str, Any] = {}
    for number, (_, policy) in enumerate(_static_policies(parsed), start=1):
        label = _rule_label(number, policy)
        if policy.get("effect") != "forbid":
            problems.append(
                Problem(
                    "",
                    f"{label}: only forbid rules may be added; a workspace cannot grant "
                    "itself more than its roles allow",
                )
            )
        problems.extend(Problem("", f"{label}: {reason}") for reason in _naming_problems(policy))
        rules[f"workspace:{number}"] = policy
    if problems:
        raise ValidationFailed("policy", problems)
    return rules


def _compile(base: dict[str, Any], workspace: dict[str, Any]) -> CompiledPolicies:
    static = {**base, **workspace}
    document = {"staticPolicies": static, "templates": {}, "templateLinks": []}
    labels = {pid: f"base rule {pid.removeprefix('base:')!r}" for pid in base}
    labels.update(
        {pid: _rule_label(int(pid.removeprefix("workspace:")), p) for pid, p in workspace.items()}
    )
    memoizable = not workspace and all(_decides_on_cached_facts(p) for p in base.values())
    return CompiledPolicies(
        cedarpy.PolicySet.from_json_str(json.dumps(document)), labels, memoizable
    )


def _to_json(text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(cedarpy.policies_to_json_str(text))
    return parsed


def _static_policies(parsed: Mapping[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """Static policies in source order (Cedar numbers them in the order it read them)."""
    found: list[tuple[int, dict[str, Any]]] = []
    for key, policy in parsed.get("staticPolicies", {}).items():
        match = _PARSER_ID.fullmatch(key)
        if match is None:  # Cedar names text policies itself; anything else is not ours to order
            raise RuntimeError(f"unexpected policy id {key!r} from the Cedar parser")
        found.append((int(match.group(1)), policy))
    return sorted(found, key=lambda item: item[0])


def _rule_label(number: int, policy: Mapping[str, Any]) -> str:
    name = policy.get("annotations", {}).get("id")
    return f"workspace rule {number} ({name!r})" if name else f"workspace rule {number}"


# --- what a workspace rule may name -------------------------------------------------------


def _naming_problems(policy: Mapping[str, Any]) -> Iterator[str]:
    yield from _slot_problems("principal", policy.get("principal", {}), PRINCIPAL_TYPES)
    yield from _slot_problems("resource", policy.get("resource", {}), RESOURCE_TYPES)
    action = policy.get("action", {})
    named = action.get("entities", []) + ([action["entity"]] if "entity" in action else [])
    for entity in named:
        yield from _entity_problems(entity.get("type", ""), entity.get("id", ""))
    for entity_type, entity_id in _literals(policy.get("conditions", [])):
        yield from _entity_problems(entity_type, entity_id)


def _slot_problems(slot: str, scope: Mapping[str, Any], allowed: frozenset[str]) -> Iterator[str]:
    types = [scope.get("entity_type"), scope.get("entity", {}).get("type")]
    types.append(scope.get("in", {}).get("entity", {}).get("type"))
    for entity_type in (t for t in types if t):
        unknown = list(_entity_problems(entity_type, None))
        if unknown:
            yield from unknown
        elif entity_type not in allowed:
            kinds = " or ".join(sorted(allowed)) if len(allowed) < 3 else "a resource kind"
            yield f"the {slot} is never a {entity_type} (it is {kinds}), so this never applies"


def _entity_problems(entity_type: str, entity_id: str | None) -> Iterator[str]:
    if entity_type not in _ENTITY_TYPES:
        yield f"unknown entity type {entity_type!r}{_hint(entity_type, _qualified_types())}"
    elif entity_type == ACTION_TYPE and entity_id is not None and entity_id not in ACTIONS:
        yield f"unknown action {entity_id!r}{_hint(entity_id, list(ACTIONS))}"


def _qualified_types() -> list[str]:
    return sorted(_ENTITY_TYPES)


def _hint(word: str, candidates: list[str]) -> str:
    qualified = f"{NAMESPACE}::{word}"
    if qualified in candidates:
        return f" (did you mean {qualified}?)"
    close = difflib.get_close_matches(word, candidates, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _literals(node: Any) -> Iterator[tuple[str, str | None]]:
    """Every entity literal and `is` type in a condition, as (type, id or None)."""
    if isinstance(node, list):
        for item in node:
            yield from _literals(item)
    elif isinstance(node, dict):
        entity = node.get("__entity")
        if isinstance(entity, dict):
            yield entity.get("type", ""), entity.get("id", "")
            return
        is_node = node.get("is")
        if isinstance(is_node, dict) and "entity_type" in is_node:
            yield is_node["entity_type"], None
        for value in node.values():
            yield from _literals(value)


# --- when a base decision may be reused ----------------------------------------------------

_VAR_PRINCIPAL = {"Var": "principal"}
_VAR_RESOURCE = {"Var": "resource"}
_SAME_WORKSPACE = (
    {".": {"left": _VAR_PRINCIPAL, "attr": "workspace"}},
    {".": {"left": _VAR_RESOURCE, "attr": "workspace"}},
)
_PRINCIPAL_ROLE = {".": {"left": _VAR_PRINCIPAL, "attr": "role"}}


def _decides_on_cached_facts(policy: Mapping[str, Any]) -> bool:
    """True when `policy` looks only at the facts the decision cache is keyed on.

    Those are the principal's role, the action, and whether the principal and
    resource workspaces are equal (written as exactly that comparison). A
    policy reading anything else (an id, another attribute, a scope on a
    specific entity) makes reuse unsafe, and the engine then asks Cedar every
    time instead of trusting a cached answer.
    """
    if policy["principal"] != {"op": "All"} or policy["resource"] != {"op": "All"}:
        return False
    return all(_uses_cached_facts(c["body"]) for c in policy.get("conditions", []))


def _uses_cached_facts(node: Any) -> bool:
    if isinstance(node, list):
        return all(_uses_cached_facts(item) for item in node)
    if not isinstance(node, dict):
        return True
    equal = node.get("==")
    if isinstance(equal, dict) and (equal.get("left"), equal.get("right")) in (
        _SAME_WORKSPACE,
        _SAME_WORKSPACE[::-1],
    ):
        return True
    if node == _PRINCIPAL_ROLE:
        return True
    if "Var" in node:
        return bool(node["Var"] == "action")
    return all(_uses_cached_facts(value) for value in node.values())

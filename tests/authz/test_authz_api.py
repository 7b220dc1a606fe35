"""The module's surface: principals, resources, reasons, errors, memoization."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import cedarpy
import pytest

from swarmyard.authz import ACTIONS, Decision, Resource, ResourceKind, action_info, authorize
from swarmyard.authz._engine import _clear_decision_cache
from swarmyard.authz._policies import _decides_on_cached_facts, base_policies
from swarmyard.domain import Principal, Role


@pytest.fixture(autouse=True)
def fresh_decisions() -> Iterator[None]:
    _clear_decision_cache()
    yield
    _clear_decision_cache()


# --- actions --------------------------------------------------------------------------------


@pytest.mark.parametrize("rules", ["", "forbid (principal, action, resource) when { false };"])
def test_unknown_action_is_a_value_error_naming_it(rules: str) -> None:
    owner = Principal("user", "u", "ws1", Role.OWNER)
    with pytest.raises(ValueError, match=r"unknown action 'task\.delete'") as caught:
        authorize(owner, "task.delete", workspace_rules=rules)
    assert "did you mean" in str(caught.value)


def test_unknown_action_without_a_near_miss() -> None:
    with pytest.raises(ValueError, match=r"^unknown action 'zzz'; every action is listed"):
        action_info("zzz")


def test_action_names_are_resource_dot_verb() -> None:
    for name, info in ACTIONS.items():
        resource, _, verb = name.partition(".")
        assert resource, name
        assert verb, name
        assert name == name.lower(), name
        assert info.description, name
        assert info.description == info.description.strip(), name


# --- principals -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_users_and_api_keys_of_a_role_behave_alike(role: Role) -> None:
    user = Principal("user", "same-id", "ws1", role)
    key = Principal("api_key", "same-id", "ws1", role)
    for action in ACTIONS:
        assert authorize(user, action) == authorize(key, action), action


def test_unknown_principal_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown principal kind 'robot'"):
        authorize(Principal("robot", "r", "ws1", Role.OWNER), "task.read")


def test_unknown_role_is_refused() -> None:
    stranger = Principal("user", "u", "ws1", "superuser")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="superuser"):
        authorize(stranger, "task.read")


def test_an_api_key_acting_on_itself() -> None:
    key = Principal("api_key", "k1", "ws1", Role.ADMIN)
    itself = Resource(ResourceKind.API_KEY, "k1", "ws1", {"role": "admin", "name": "ci"})
    assert authorize(key, "apikey.manage", itself).allowed
    assert authorize(key, "apikey.manage", Resource(ResourceKind.API_KEY, "k1", "ws1")).allowed
    rules = (
        'forbid (principal, action == Swarmyard::Action::"apikey.manage", resource) '
        "when { resource == principal };"
    )
    assert not authorize(key, "apikey.manage", itself, workspace_rules=rules).allowed
    other = Resource(ResourceKind.API_KEY, "k2", "ws1")
    assert authorize(key, "apikey.manage", other, workspace_rules=rules).allowed
    with pytest.raises(ValueError, match="calling API key itself but disagrees with it on role"):
        authorize(key, "apikey.manage", Resource(ResourceKind.API_KEY, "k1", "ws1", {"role": "x"}))
    with pytest.raises(ValueError, match="disagrees with it on workspace"):
        authorize(key, "apikey.read", Resource(ResourceKind.API_KEY, "k1", "ws2"))


# --- resources ------------------------------------------------------------------------------


def test_resource_kind_accepts_the_cedar_type_name() -> None:
    resource = Resource("Task", "t1", "ws1")  # type: ignore[arg-type]
    assert resource.kind is ResourceKind.TASK


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "task"}, "unknown resource kind 'task'"),
        ({"attrs": {"workspace": "ws2"}}, "workspace are set by the engine"),
        ({"attrs": {"cost": 1.5}}, r"Task\.cost is a float"),
        ({"attrs": {"tags": ["a", None]}}, r"Task\.tags\.1 is a NoneType"),
        ({"attrs": {"n": 2**63}}, r"Task\.n does not fit in 64 bits"),
        ({"attrs": {"m": {1: "x"}}}, "non-string key 1"),
        ({"attrs": ["type"]}, "must be a mapping"),
    ],
)
def test_malformed_resources_are_refused(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"kind": ResourceKind.TASK, "id": "t1", "workspace_id": "ws1"}
    with pytest.raises(ValueError, match=message):
        Resource(**(fields | kwargs))


def test_resource_attrs_are_a_frozen_copy() -> None:
    tags = ["a"]
    resource = Resource(ResourceKind.TASK, "t1", "ws1", {"tags": tags, "meta": {"k": [1]}})
    tags.append("b")
    assert resource.attrs["tags"] == ("a",)
    with pytest.raises(TypeError):
        resource.attrs["tags"] = ()  # type: ignore[index]


def test_structured_attributes_reach_cedar() -> None:
    rules = (
        'forbid (principal, action == Swarmyard::Action::"task.move", resource) '
        'when { resource has labels && resource.labels.contains("frozen") '
        '&& resource has owner && resource.owner.team == "ops" && resource.priority > 2 };'
    )
    member = Principal("user", "u", "ws1", Role.MEMBER)
    attrs: dict[str, Any] = {"labels": ["frozen"], "owner": {"team": "ops"}, "priority": 3}
    frozen = Resource(ResourceKind.TASK, "t1", "ws1", attrs)
    assert not authorize(member, "task.move", frozen, workspace_rules=rules).allowed
    thawed = Resource(ResourceKind.TASK, "t1", "ws1", attrs | {"labels": []})
    assert authorize(member, "task.move", thawed, workspace_rules=rules).allowed


def test_no_resource_means_the_callers_workspace() -> None:
    admin = Principal("user", "u", "ws1", Role.ADMIN)
    explicit = authorize(admin, "agent.install", Resource.workspace("ws1"))
    assert authorize(admin, "agent.install") == explicit == Decision(True, explicit.reason)


# --- reasons --------------------------------------------------------------------------------


def test_reasons_name_the_deciding_rule() -> None:
    member = Principal("user", "u", "ws1", Role.MEMBER)
    assert authorize(member, "task.create").reason == "permitted by base rule 'member'"
    assert authorize(member, "task.read").reason == "permitted by base rule 'viewer'"
    assert authorize(member, "agent.install").reason == (
        "no policy permits 'agent.install' for role member (needs admin or above)"
    )
    foreign = Resource(ResourceKind.TASK, "t", "other")
    assert authorize(member, "task.read", foreign).reason == (
        "forbidden by base rule 'cross-workspace'"
    )


# --- memoization ----------------------------------------------------------------------------


def test_the_base_policy_is_memoizable() -> None:
    assert base_policies().memoizable


@pytest.mark.parametrize(
    "policy",
    [
        'permit (principal == Swarmyard::User::"u", action, resource);',
        'permit (principal, action, resource) when { principal.workspace == "ws1" };',
        "permit (principal, action, resource) when { resource has type };",
        "permit (principal, action, resource) when { principal is Swarmyard::ApiKey };",
        "permit (principal, action, resource) when { context has ip };",
    ],
)
def test_base_rules_reading_other_facts_would_disable_memoization(policy: str) -> None:
    (parsed,) = json.loads(cedarpy.policies_to_json_str(policy))["staticPolicies"].values()
    assert not _decides_on_cached_facts(parsed)


def test_memoized_decisions_match_fresh_cedar_answers() -> None:
    """A decision reused for other ids and workspaces is what Cedar says for them."""
    # The kinds the engine treats differently: the default, an ordinary object,
    # and the one whose id can be the caller's own.
    kinds = (ResourceKind.WORKSPACE, ResourceKind.TASK, ResourceKind.API_KEY)
    seen: dict[tuple[str, Role, str, ResourceKind, bool], Decision] = {}
    for kind in ("user", "api_key"):
        for role in Role:
            first = Principal(kind, "first", "ws1", role)
            for action in ACTIONS:
                for resource_kind in kinds:
                    for same in (True, False):
                        resource = Resource(resource_kind, "obj", "ws1" if same else "ws2")
                        seen[kind, role, action, resource_kind, same] = authorize(
                            first, action, resource
                        )

    def others(key: tuple[str, Role, str, ResourceKind, bool]) -> tuple[Principal, Resource]:
        kind, role, _, resource_kind, same = key
        return (
            Principal(kind, "second", "ws7", role),
            Resource(resource_kind, "other-obj", "ws7" if same else "ws8"),
        )

    reused = {key: authorize(others(key)[0], key[2], others(key)[1]) for key in seen}
    _clear_decision_cache()
    fresh = {key: authorize(others(key)[0], key[2], others(key)[1]) for key in seen}
    assert reused == fresh == seen

"""The base policy implements the catalogue exactly, and never crosses workspaces."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import cedarpy
import pytest

from swarmyard.authz import (
    ACTIONS,
    Resource,
    ResourceKind,
    action_info,
    authorize,
    base_policy_text,
    roles_allowed,
)
from swarmyard.authz._engine import _clear_decision_cache
from swarmyard.domain import Principal, Role

KINDS = ("user", "api_key")
CEDAR_TYPES = {"user": "Swarmyard::User", "api_key": "Swarmyard::ApiKey"}


@pytest.fixture(autouse=True)
def fresh_decisions() -> Iterator[None]:
    """Every test makes Cedar answer, not a decision memoized by an earlier test."""
    _clear_decision_cache()
    yield
    _clear_decision_cache()


def expected(role: Role, action: str) -> bool:
    return role.rank >= ACTIONS[action].minimum_role.rank


def cedar_actions(text: str) -> set[str]:
    found: set[str] = set()
    for policy in json.loads(cedarpy.policies_to_json_str(text))["staticPolicies"].values():
        scope = policy["action"]
        for entity in [*scope.get("entities", []), scope.get("entity", {})]:
            if entity.get("type") == "Swarmyard::Action":
                found.add(entity["id"])
    return found


def test_cedar_file_names_exactly_the_catalogued_actions() -> None:
    assert cedar_actions(base_policy_text()) == set(ACTIONS)


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("kind", KINDS)
def test_every_role_gets_exactly_what_the_catalogue_says(kind: str, action: str) -> None:
    for role in Role:
        principal = Principal(kind, f"{kind}-1", "ws1", role)
        decision = authorize(principal, action)
        assert decision.allowed is expected(role, action), (kind, role, action, decision)


def test_cedar_file_alone_agrees_with_the_catalogue() -> None:
    """The shipped text, evaluated by cedarpy without our engine, gives the same matrix."""
    requests, wanted = [], []
    entities: list[dict[str, Any]] = [
        {"uid": {"type": "Swarmyard::Workspace", "id": "ws1"}, "attrs": {"workspace": "ws1"}}
    ]
    for kind in KINDS:
        for role in Role:
            uid = {"type": CEDAR_TYPES[kind], "id": f"{kind}-{role.value}"}
            entities.append({"uid": uid, "attrs": {"role": role.value, "workspace": "ws1"}})
            for action in ACTIONS:
                requests.append(
                    {
                        "principal": uid,
                        "action": {"type": "Swarmyard::Action", "id": action},
                        "resource": {"type": "Swarmyard::Workspace", "id": "ws1"},
                    }
                )
                wanted.append(expected(role, action))
    for entity in entities:
        entity["parents"] = []
    results = cedarpy.is_authorized_batch(requests, base_policy_text(), entities)
    assert [r.allowed for r in results] == wanted


def test_roles_are_cumulative() -> None:
    for action in ACTIONS:
        allowed = roles_allowed(action)
        assert allowed[0] is action_info(action).minimum_role
        assert allowed[-1] is Role.OWNER
        assert [r.rank for r in allowed] == list(range(allowed[0].rank, 4))


def test_brief_examples_of_the_matrix() -> None:
    def may(role: Role, action: str) -> bool:
        return authorize(Principal("user", "u", "ws1", role), action).allowed

    assert may(Role.VIEWER, "task.read")
    assert not may(Role.VIEWER, "task.create")
    assert may(Role.MEMBER, "task.cancel")
    assert may(Role.MEMBER, "run.stop")
    assert not may(Role.MEMBER, "catalog.publish")
    assert not may(Role.MEMBER, "schedule.delete")
    assert not may(Role.VIEWER, "audit.read")
    assert may(Role.ADMIN, "audit.read")
    assert may(Role.ADMIN, "agent.install")
    assert not may(Role.ADMIN, "member.manage")
    assert not may(Role.ADMIN, "workspace.delete")
    assert may(Role.OWNER, "workspace.delete")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("kind", KINDS)
def test_no_role_reaches_another_workspace(kind: str, role: Role) -> None:
    principal = Principal(kind, "p1", "ws1", role)
    for action in ACTIONS:
        for resource_kind in ResourceKind:
            foreign = Resource(resource_kind, "obj1", "ws2")
            decision = authorize(principal, action, foreign)
            assert not decision.allowed, (action, resource_kind)
            assert decision.reason == "forbidden by base rule 'cross-workspace'"
        # The Cedar path (attributes are never memoized) refuses too.
        tagged = Resource(ResourceKind.TASK, "t1", "ws2", {"type": "deploy"})
        assert not authorize(principal, action, tagged).allowed


def test_every_permit_requires_the_same_workspace_on_its_own() -> None:
    """Without the cross-workspace forbid, the permits still refuse a foreign resource."""
    document = json.loads(cedarpy.policies_to_json_str(base_policy_text()))
    permits = {
        pid: policy
        for pid, policy in document["staticPolicies"].items()
        if policy["effect"] == "permit"
    }
    assert len(permits) == 4
    document["staticPolicies"] = permits
    policy_set = cedarpy.PolicySet.from_json_str(json.dumps(document))
    owner = {"type": "Swarmyard::User", "id": "boss"}
    entities = [
        {"uid": owner, "attrs": {"role": "owner", "workspace": "ws1"}, "parents": []},
        {
            "uid": {"type": "Swarmyard::Task", "id": "t"},
            "attrs": {"workspace": "ws2"},
            "parents": [],
        },
    ]
    requests = [
        {
            "principal": owner,
            "action": {"type": "Swarmyard::Action", "id": action},
            "resource": {"type": "Swarmyard::Task", "id": "t"},
        }
        for action in ACTIONS
    ]
    assert not any(r.allowed for r in cedarpy.is_authorized_batch(requests, policy_set, entities))


def test_same_workspace_objects_of_every_kind_are_reachable() -> None:
    member = Principal("user", "u1", "ws1", Role.MEMBER)
    for resource_kind in ResourceKind:
        assert authorize(member, "task.read", Resource(resource_kind, "x", "ws1")).allowed

"""Workspace forbid rules: what they may say, and what they do to decisions."""

from __future__ import annotations

from collections.abc import Iterator

import cedarpy
import pytest

from swarmyard.authz import (
    MAX_RULES_CHARS,
    Resource,
    ResourceKind,
    authorize,
    validate_workspace_rules,
)
from swarmyard.authz._engine import _clear_decision_cache
from swarmyard.domain import Principal, Role, ValidationFailed

NO_DEPLOY_CANCEL = """
// Members may not cancel deployments; admins still can.
@id("members-keep-deploys")
forbid (
  principal,
  action == Swarmyard::Action::"task.cancel",
  resource is Swarmyard::Task
)
when { principal.role == "member" && resource has type && resource.type == "deploy" };
"""

CI_KEY_NO_STOP = """
@id("ci-key-cannot-stop-runs")
forbid (
  principal == Swarmyard::ApiKey::"key_ci",
  action == Swarmyard::Action::"run.stop",
  resource
);
"""

MEMBER = Principal("user", "u1", "ws1", Role.MEMBER)
ADMIN = Principal("user", "u2", "ws1", Role.ADMIN)
DEPLOY = Resource(ResourceKind.TASK, "t1", "ws1", {"type": "deploy"})
BUGFIX = Resource(ResourceKind.TASK, "t2", "ws1", {"type": "bugfix"})
RUN = Resource(ResourceKind.RUN, "r1", "ws1")


@pytest.fixture(autouse=True)
def fresh_decisions() -> Iterator[None]:
    _clear_decision_cache()
    yield
    _clear_decision_cache()


def problems_of(text: str) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_workspace_rules(text)
    assert caught.value.code == "validation_failed"
    assert caught.value.message.startswith("invalid policy: ")
    return [p.reason for p in caught.value.problems]


# --- valid rules and their effect ----------------------------------------------------------


@pytest.mark.parametrize("text", [NO_DEPLOY_CANCEL, CI_KEY_NO_STOP, "", "  // nothing yet\n"])
def test_forbid_rules_are_accepted(text: str) -> None:
    validate_workspace_rules(text)


def test_members_cannot_cancel_deploy_tasks() -> None:
    denied = authorize(MEMBER, "task.cancel", DEPLOY, workspace_rules=NO_DEPLOY_CANCEL)
    assert not denied.allowed
    assert denied.reason == "forbidden by workspace rule 1 ('members-keep-deploys')"


def test_the_deploy_rule_leaves_everything_else_alone() -> None:
    rules = NO_DEPLOY_CANCEL
    assert authorize(MEMBER, "task.cancel", BUGFIX, workspace_rules=rules).allowed
    assert authorize(ADMIN, "task.cancel", DEPLOY, workspace_rules=rules).allowed
    assert authorize(MEMBER, "task.move", DEPLOY, workspace_rules=rules).allowed
    # No `type` fact at all: the rule guards with `has`, so it does not apply.
    untyped = Resource(ResourceKind.TASK, "t3", "ws1")
    assert authorize(MEMBER, "task.cancel", untyped, workspace_rules=rules).allowed


def test_a_specific_api_key_cannot_stop_runs() -> None:
    ci = Principal("api_key", "key_ci", "ws1", Role.ADMIN)
    other = Principal("api_key", "key_other", "ws1", Role.ADMIN)
    same_id_user = Principal("user", "key_ci", "ws1", Role.ADMIN)
    rules = CI_KEY_NO_STOP
    denied = authorize(ci, "run.stop", RUN, workspace_rules=rules)
    assert not denied.allowed
    assert denied.reason == "forbidden by workspace rule 1 ('ci-key-cannot-stop-runs')"
    assert not authorize(ci, "run.stop", workspace_rules=rules).allowed
    assert authorize(ci, "run.read", RUN, workspace_rules=rules).allowed
    assert authorize(other, "run.stop", RUN, workspace_rules=rules).allowed
    assert authorize(same_id_user, "run.stop", RUN, workspace_rules=rules).allowed


def test_rules_narrow_but_the_base_still_decides_the_rest() -> None:
    viewer = Principal("user", "v", "ws1", Role.VIEWER)
    both = NO_DEPLOY_CANCEL + CI_KEY_NO_STOP
    decision = authorize(viewer, "task.cancel", BUGFIX, workspace_rules=both)
    assert not decision.allowed
    assert decision.reason.startswith("no policy permits 'task.cancel' for role viewer")
    foreign = Resource(ResourceKind.TASK, "t9", "ws2", {"type": "bugfix"})
    assert not authorize(ADMIN, "task.read", foreign, workspace_rules=both).allowed


def test_rules_unnamed_are_numbered_in_reasons() -> None:
    rules = (
        CI_KEY_NO_STOP + 'forbid (principal, action == Swarmyard::Action::"task.create", resource);'
    )
    decision = authorize(MEMBER, "task.create", workspace_rules=rules)
    assert decision == decision.__class__(False, "forbidden by workspace rule 2")


def test_a_rule_that_cannot_be_evaluated_denies() -> None:
    """Cedar skips a failing policy; for a forbid that would open a hole, so it denies."""
    unguarded = (
        'forbid (principal, action == Swarmyard::Action::"task.cancel", resource) '
        'when { resource.type == "deploy" };'
    )
    untyped = Resource(ResourceKind.TASK, "t3", "ws1")
    decision = authorize(MEMBER, "task.cancel", untyped, workspace_rules=unguarded)
    assert not decision.allowed
    assert decision.reason.startswith("denied because a rule could not be evaluated")
    assert "workspace rule 1" in decision.reason
    assert "type" in decision.reason
    # Other actions never reach the condition, so they are unaffected.
    assert authorize(MEMBER, "task.move", untyped, workspace_rules=unguarded).allowed


def test_decisions_with_rules_are_never_reused_across_principals() -> None:
    ci = Principal("api_key", "key_ci", "ws1", Role.ADMIN)
    other = Principal("api_key", "key_other", "ws1", Role.ADMIN)
    for first, second in ((ci, other), (other, ci)):
        _clear_decision_cache()
        answers = [
            authorize(p, "run.stop", workspace_rules=CI_KEY_NO_STOP).allowed
            for p in (first, second)
        ]
        assert answers == [first is other, second is other]
    # And the base answer for the key, without rules, is still "allowed".
    assert authorize(ci, "run.stop").allowed


# --- refused rules --------------------------------------------------------------------------


def test_permit_rules_are_refused() -> None:
    reasons = problems_of("permit (principal, action, resource);")
    assert reasons == [
        "workspace rule 1: only forbid rules may be added; a workspace cannot grant itself "
        "more than its roles allow"
    ]


def test_only_the_permit_among_forbids_is_named() -> None:
    text = NO_DEPLOY_CANCEL + '@id("sneaky") permit (principal, action, resource);'
    (reason,) = problems_of(text)
    assert reason.startswith("workspace rule 2 ('sneaky'): only forbid rules may be added")


def test_a_permit_can_never_widen_a_decision() -> None:
    viewer = Principal("user", "v", "ws1", Role.VIEWER)
    with pytest.raises(ValidationFailed, match="only forbid rules may be added"):
        authorize(
            viewer, "workspace.delete", workspace_rules="permit (principal, action, resource);"
        )


@pytest.mark.parametrize(
    "text",
    [
        "forbid (principal, action, resource) when { x ",
        "forbid (principal, action, resource) when { resource.a = 1 };",
        "forbid (principal, actio, resource);",
        "forbid (?principal, action, resource);",
    ],
)
def test_syntax_errors_carry_cedars_message(text: str) -> None:
    with pytest.raises(ValueError, match=r".") as cedar:
        cedarpy.policies_to_json_str(text)
    assert problems_of(text) == [f"Cedar syntax error: {cedar.value}"]


def test_unknown_actions_are_named() -> None:
    text = 'forbid (principal, action == Swarmyard::Action::"task.cancle", resource);'
    assert problems_of(text) == [
        "workspace rule 1: unknown action 'task.cancle' (did you mean task.cancel?)"
    ]
    in_condition = (
        'forbid (principal, action, resource) when { action == Swarmyard::Action::"tasks.delete" };'
    )
    (reason,) = problems_of(in_condition)
    assert "unknown action 'tasks.delete'" in reason


def test_unknown_entity_types_are_named() -> None:
    text = 'forbid (principal == ApiKey::"key_ci", action, resource is Swarmyard::Tsk);'
    assert problems_of(text) == [
        "workspace rule 1: unknown entity type 'ApiKey' (did you mean Swarmyard::ApiKey?)",
        "workspace rule 1: unknown entity type 'Swarmyard::Tsk' (did you mean Swarmyard::Task?)",
    ]


def test_scopes_that_can_never_match_are_refused() -> None:
    text = "forbid (principal is Swarmyard::Task, action, resource is Swarmyard::User);"
    reasons = problems_of(text)
    assert reasons == [
        "workspace rule 1: the principal is never a Swarmyard::Task (it is Swarmyard::ApiKey or "
        "Swarmyard::User), so this never applies",
        "workspace rule 1: the resource is never a Swarmyard::User (it is a resource kind), "
        "so this never applies",
    ]


def test_oversized_rules_are_refused() -> None:
    text = "// " + "x" * MAX_RULES_CHARS
    (reason,) = problems_of(text)
    assert reason == f"rules are {len(text)} characters long; at most {MAX_RULES_CHARS}"


def test_invalid_rules_stop_authorization() -> None:
    with pytest.raises(ValidationFailed, match="Cedar syntax error"):
        authorize(MEMBER, "task.read", workspace_rules="forbid (")

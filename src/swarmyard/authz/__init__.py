"""Authorization: may this principal perform this action on this resource?

Every request names an action from one catalogue (`ACTIONS`); `authorize`
answers with a `Decision` from Cedar policies: the base policy shipped with
Swarmyard (the role-by-action matrix, `policies.cedar`) plus any forbid rules
a workspace adds for itself. Policies live in Cedar rather than in `if`
statements so the whole matrix is one readable file, checked against the
catalogue by tests, and so workspaces can tighten it without code.

The module depends only on the domain's `Principal` and `Role`; the API asks
it once per request, and services may ask it for finer checks on loaded
objects (a task's type, a specific key).
"""

from ._actions import ACTIONS, ActionInfo, action_info, actions_markdown_table, roles_allowed
from ._engine import Decision, authorize
from ._policies import MAX_RULES_CHARS, base_policy_text, validate_workspace_rules
from ._resources import AttrValue, Resource, ResourceKind

__all__ = [
    "ACTIONS",
    "MAX_RULES_CHARS",
    "ActionInfo",
    "AttrValue",
    "Decision",
    "Resource",
    "ResourceKind",
    "action_info",
    "actions_markdown_table",
    "authorize",
    "base_policy_text",
    "roles_allowed",
    "validate_workspace_rules",
]

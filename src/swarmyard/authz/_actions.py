"""The action catalogue: every action a caller can be authorized for, once.

Routes name the action they perform, the Cedar base policy grants actions to
roles, and the documentation lists them; all three read from this table (the
Cedar file is checked against it by a test), so an action cannot exist in one
place and be missing in another. Each entry also records the least powerful
role allowed to perform it, which is what the base policy must implement.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

from ..domain import Role

__all__ = [
    "ACTIONS",
    "ActionInfo",
    "action_info",
    "actions_markdown_table",
    "roles_allowed",
]


class ActionInfo(NamedTuple):
    """What an action allows, and the least powerful role allowed to do it."""

    description: str
    minimum_role: Role


_V, _M, _A, _O = Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER

ACTIONS: Mapping[str, ActionInfo] = MappingProxyType(
    {
        "workspace.read": ActionInfo("see the workspace and its settings", _V),
        "workspace.delete": ActionInfo("delete the workspace and everything in it", _O),
        "member.read": ActionInfo("list the workspace's members and their roles", _V),
        "member.manage": ActionInfo("add and remove members, change their roles", _O),
        "apikey.read": ActionInfo("list API keys (never their secrets)", _V),
        "apikey.manage": ActionInfo("issue and revoke API keys", _A),
        "catalog.read": ActionInfo("browse the marketplace of agent manifests", _V),
        "catalog.publish": ActionInfo("publish a custom agent manifest", _A),
        "agent.read": ActionInfo("see installed agents, their health and load", _V),
        "agent.install": ActionInfo("install an agent from a manifest", _A),
        "agent.scale": ActionInfo("change an agent's replicas", _A),
        "agent.pause": ActionInfo("pause or resume an agent", _A),
        "agent.uninstall": ActionInfo("uninstall an agent", _A),
        "project.read": ActionInfo("see projects", _V),
        "project.write": ActionInfo("create and update projects", _M),
        "project.delete": ActionInfo("delete a project", _A),
        "task.read": ActionInfo("see the board, tasks and their live events", _V),
        "task.create": ActionInfo("create a task", _M),
        "task.move": ActionInfo("move a card on the board, change its dependencies", _M),
        "task.cancel": ActionInfo("cancel a task, its subtasks and their runs", _M),
        "run.read": ActionInfo("see runs, their events and streams", _V),
        "run.stop": ActionInfo("stop a run", _M),
        "approval.decide": ActionInfo("approve or reject a tool call a policy held back", _M),
        "memory.read": ActionInfo("search the agents' long-term memory and shared context", _V),
        "memory.write": ActionInfo("add and remove memory items and shared context", _M),
        "schedule.read": ActionInfo("see cron schedules", _V),
        "schedule.create": ActionInfo("create a cron schedule", _M),
        "schedule.pause": ActionInfo("pause or resume a cron schedule", _M),
        "schedule.delete": ActionInfo("delete a cron schedule", _A),
        "audit.read": ActionInfo("read the audit log", _A),
        "budget.read": ActionInfo("see budgets and what is left of them", _V),
        "budget.write": ActionInfo("set and remove budgets", _A),
        # Endpoints, key state and where each provider comes from are the
        # admins' business; members see what the router does through prices
        # and routing rules instead.
        "provider.read": ActionInfo("see the configured LLM providers (never their keys)", _A),
        "provider.write": ActionInfo("register, replace and remove LLM providers", _A),
        "price.read": ActionInfo("see the workspace's model price overrides", _M),
        "price.write": ActionInfo("set and remove model price overrides", _A),
        "routing.read": ActionInfo("see the model routing rules in force", _M),
        "routing.write": ActionInfo("change or reset the model routing rules", _A),
        "policy.read": ActionInfo("see admission and tool policies and workspace rules", _V),
        "policy.write": ActionInfo("change admission and tool policies and workspace rules", _A),
        "usage.read": ActionInfo("see token and cost usage", _V),
        # Registrations name commands and endpoints; probing one starts it.
        "mcp.read": ActionInfo(
            "see MCP servers (never their secrets), their health and tools; probe them", _M
        ),
        "mcp.write": ActionInfo("register, change and remove MCP servers", _A),
        "skill.read": ActionInfo("browse skill packs and the ones the workspace installed", _V),
        "skill.publish": ActionInfo("publish a custom skill pack", _A),
        # A pack offers its tools to every run of its roles.
        "skill.install": ActionInfo(
            "install, pin, upgrade, enable, disable and uninstall skill packs", _A
        ),
    }
)

# Columns of the generated table, least powerful role first, as people read it.
_ROLES_ASCENDING = sorted(Role, key=lambda role: role.rank)


def action_info(action: str) -> ActionInfo:
    """The catalogue entry of `action`; `ValueError` naming it when it is unknown.

    An unknown action is a programming error (a route naming an action that
    does not exist), not a denial: answering "denied" would hide the typo.
    """
    info = ACTIONS.get(action)
    if info is None:
        close = difflib.get_close_matches(action, ACTIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown action {action!r}{hint}; every action is listed in ACTIONS")
    return info


def roles_allowed(action: str) -> list[Role]:
    """The roles the base policy lets perform `action`, least powerful first."""
    minimum = action_info(action).minimum_role
    return [role for role in _ROLES_ASCENDING if role.rank >= minimum.rank]


def actions_markdown_table() -> str:
    """The role-by-action table of docs/authorization.md, generated from ACTIONS."""
    roles = [role.value for role in _ROLES_ASCENDING]
    lines = [
        "| action | allows | minimum role | " + " | ".join(roles) + " |",
        "|---|---|---|" + "---|" * len(roles),
    ]
    for name, info in ACTIONS.items():
        marks = ["✓" if role.rank >= info.minimum_role.rank else "—" for role in _ROLES_ASCENDING]
        row = [f"`{name}`", info.description, info.minimum_role.value, *marks]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"

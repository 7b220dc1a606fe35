"""The board's words, as the command line offers them.

These mirror the enums in `swarmyard.domain` (a test keeps them equal). They
are spelled out here because the domain package loads pydantic, which the
command line must not pay for at start-up.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "BOARD_MAIN",
    "BOARD_OTHER",
    "ApprovalStatusName",
    "BudgetScopeName",
    "ComplexityName",
    "MissedPolicy",
    "ModelTierName",
    "OnExceedName",
    "PriorityName",
    "ProviderKindName",
    "RoleName",
    "TaskStatusName",
    "UsageGroupName",
]

TaskStatusName = Literal[
    "backlog", "todo", "in_progress", "review", "done", "blocked", "failed", "cancelled"
]
PriorityName = Literal["low", "normal", "high", "urgent"]
ComplexityName = Literal["low", "medium", "high", "critical"]
MissedPolicy = Literal["skip", "once"]
# Spending: what a budget covers, what happens once it is spent, how usage is grouped.
BudgetScopeName = Literal["workspace", "role", "project", "agent"]
OnExceedName = Literal["fallback", "refuse"]
# Held-back tool calls.
ApprovalStatusName = Literal["pending", "approved", "rejected", "expired"]
UsageGroupName = Literal[
    "provider", "model", "role", "task_type", "day", "project", "agent", "task", "run"
]
# Model providers and the tiers of their models.
ProviderKindName = Literal[
    "openai", "openai-compatible", "ollama", "anthropic", "gemini", "local", "offline"
]
ModelTierName = Literal["fast", "mid", "premium"]
# Workspace roles, from most to least powerful.
RoleName = Literal["owner", "admin", "member", "viewer"]

# The board's five main columns, shown side by side, and the others listed below.
BOARD_MAIN: tuple[TaskStatusName, ...] = ("backlog", "todo", "in_progress", "review", "done")
BOARD_OTHER: tuple[TaskStatusName, ...] = ("blocked", "failed", "cancelled")

"""Tasks: the cards on the board.

A task is *ready* when it sits in ``todo`` and every task it depends on is
done; only ready tasks are assigned. Status changes go through
`Task.move`, which consults the board state machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .errors import IllegalTransition
from .manifest import Complexity
from .states import MANUAL_TASK_MOVES, TASK_MACHINE, TaskStatus
from .task_types import TASK_TYPES

__all__ = ["TASK_TYPES", "Priority", "Task"]


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {p: i for i, p in enumerate(Priority)}


@dataclass(slots=True)
class Task:
    id: str
    workspace_id: str
    title: str
    type: str
    created_at: datetime
    project_id: str | None = None
    description: str = ""
    priority: Priority = Priority.NORMAL
    complexity: Complexity = Complexity.MEDIUM
    required_role: str | None = None
    required_capabilities: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    parent_id: str | None = None
    # The run that delegated this task, and how deep in a delegation chain it is.
    delegated_by_run: str | None = None
    delegation_depth: int = 0
    status: TaskStatus = TaskStatus.TODO
    assignee_agent_id: str | None = None
    result: str | None = None
    # Why a todo task is not being worked on (no eligible agent, dependencies…).
    waiting_reason: str | None = None
    # Spent by its runs and its subtasks' runs.
    cost_microusd: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 0
    max_attempts: int = 2
    review_required: bool = False
    labels: dict[str, Any] = field(default_factory=dict)
    # Idempotency of creation: a delegation (run id + tool call id) or a
    # schedule tick creates its task once, however often it is retried.
    origin_key: str | None = None
    # Optimistic concurrency: a stale copy cannot overwrite a newer one.
    version: int = 0
    updated_at: datetime | None = None
    finished_at: datetime | None = None

    def move(self, target: TaskStatus, *, now: datetime, manual: bool = False) -> TaskStatus:
        """Move the card; returns the previous status. `manual` applies the
        stricter set of moves a person may make by hand."""
        previous = self.status
        if manual and target not in MANUAL_TASK_MOVES[previous]:
            allowed = sorted(s.value for s in MANUAL_TASK_MOVES[previous])
            raise IllegalTransition("task (by hand)", previous.value, target.value, allowed)
        self.status = TASK_MACHINE.check(previous, target)
        self.updated_at = now
        if target.is_terminal or target is TaskStatus.FAILED:
            self.finished_at = now
        return previous

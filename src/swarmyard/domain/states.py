"""The task board and run state machines.

Every status change in Swarmyard goes through `TASK_MACHINE.check` or
`RUN_MACHINE.check`; nothing writes a status column ad hoc. The tables
below are the whole truth about which moves exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from .errors import IllegalTransition

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "MANUAL_TASK_MOVES",
    "RUN_MACHINE",
    "TASK_MACHINE",
    "RunStatus",
    "StateMachine",
    "TaskStatus",
]


class TaskStatus(StrEnum):
    BACKLOG = "backlog"
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    REVIEW = "review"
    DONE = "done"
    BLOCKED = "blocked"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskStatus.DONE, TaskStatus.CANCELLED)


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    # Parked: a tool call waits for a person. No worker holds the run; a
    # decision puts it back to pending, to be taken up from its checkpoint.
    AWAITING_APPROVAL = "awaiting_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    TIMED_OUT = "timed_out"

    @property
    def is_terminal(self) -> bool:
        return self not in ACTIVE_RUN_STATUSES


# The runs that still hold their task and their agent's slot.
ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.AWAITING_APPROVAL)

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class StateMachine(Generic[S]):
    name: str
    moves: Mapping[S, frozenset[S]]

    def allowed(self, current: S) -> list[str]:
        return sorted(s.value for s in self.moves.get(current, frozenset()))

    def can(self, current: S, target: S) -> bool:
        return target in self.moves.get(current, frozenset())

    def check(self, current: S, target: S) -> S:
        """Return `target` if the move is legal, else raise `IllegalTransition`."""
        if not self.can(current, target):
            raise IllegalTransition(self.name, current.value, target.value, self.allowed(current))
        return target


_T = TaskStatus
TASK_MACHINE: StateMachine[TaskStatus] = StateMachine(
    "task",
    {
        _T.BACKLOG: frozenset({_T.TODO, _T.BLOCKED, _T.CANCELLED}),
        _T.TODO: frozenset({_T.BACKLOG, _T.IN_PROGRESS, _T.BLOCKED, _T.CANCELLED}),
        # in_progress -> todo: a failed run is retried; -> failed: attempts exhausted.
        _T.IN_PROGRESS: frozenset({_T.REVIEW, _T.TODO, _T.BLOCKED, _T.FAILED, _T.CANCELLED}),
        # review -> todo: a reviewer (person) sends the work back.
        _T.REVIEW: frozenset({_T.DONE, _T.TODO, _T.CANCELLED}),
        _T.BLOCKED: frozenset({_T.TODO, _T.BACKLOG, _T.CANCELLED}),
        _T.FAILED: frozenset({_T.TODO, _T.CANCELLED}),
        _T.DONE: frozenset(),
        _T.CANCELLED: frozenset(),
    },
)

# Moves a person may make by dragging a card. Entering and leaving
# in_progress belongs to the orchestrator and the workers (a run exists
# then); a person stops that work by cancelling the task.
MANUAL_TASK_MOVES: Mapping[TaskStatus, frozenset[TaskStatus]] = {
    _T.BACKLOG: frozenset({_T.TODO, _T.BLOCKED, _T.CANCELLED}),
    _T.TODO: frozenset({_T.BACKLOG, _T.BLOCKED, _T.CANCELLED}),
    _T.IN_PROGRESS: frozenset({_T.CANCELLED}),
    _T.REVIEW: frozenset({_T.DONE, _T.TODO, _T.CANCELLED}),
    _T.BLOCKED: frozenset({_T.TODO, _T.BACKLOG, _T.CANCELLED}),
    _T.FAILED: frozenset({_T.TODO, _T.CANCELLED}),
    _T.DONE: frozenset(),
    _T.CANCELLED: frozenset(),
}

_R = RunStatus
RUN_MACHINE: StateMachine[RunStatus] = StateMachine(
    "run",
    {
        _R.PENDING: frozenset({_R.RUNNING, _R.STOPPED, _R.FAILED}),
        # running -> running: a new attempt takes over a run whose lease expired.
        _R.RUNNING: frozenset(
            {_R.RUNNING, _R.AWAITING_APPROVAL, _R.SUCCEEDED, _R.FAILED, _R.STOPPED, _R.TIMED_OUT}
        ),
        # -> pending: decided (or expired), it waits for a worker to go on
        # from its checkpoint.
        _R.AWAITING_APPROVAL: frozenset({_R.PENDING, _R.STOPPED, _R.FAILED}),
        _R.SUCCEEDED: frozenset(),
        _R.FAILED: frozenset(),
        _R.STOPPED: frozenset(),
        _R.TIMED_OUT: frozenset(),
    },
)

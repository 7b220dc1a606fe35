"""The board and run state machines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from swarmyard.domain import (
    RUN_MACHINE,
    TASK_MACHINE,
    IllegalTransition,
    Run,
    RunStatus,
    Task,
    TaskStatus,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_happy_path_of_a_card() -> None:
    task = Task("t", "ws", "title", "feature", T0)
    for target in (TaskStatus.IN_PROGRESS, TaskStatus.REVIEW, TaskStatus.DONE):
        task.move(target, now=T0)
    assert task.status is TaskStatus.DONE
    assert task.finished_at == T0


def test_illegal_move_names_both_states() -> None:
    task = Task("t", "ws", "title", "feature", T0)
    with pytest.raises(IllegalTransition) as err:
        task.move(TaskStatus.DONE, now=T0)
    assert "'todo'" in err.value.message
    assert "'done'" in err.value.message
    assert err.value.details["allowed"] == ["backlog", "blocked", "cancelled", "in_progress"]
    assert task.status is TaskStatus.TODO


def test_people_cannot_drag_into_in_progress() -> None:
    task = Task("t", "ws", "title", "feature", T0)
    with pytest.raises(IllegalTransition):
        task.move(TaskStatus.IN_PROGRESS, now=T0, manual=True)
    assert TASK_MACHINE.can(TaskStatus.TODO, TaskStatus.IN_PROGRESS)


@pytest.mark.parametrize("terminal", [TaskStatus.DONE, TaskStatus.CANCELLED])
def test_terminal_cards_do_not_move(terminal: TaskStatus) -> None:
    assert TASK_MACHINE.allowed(terminal) == []


def test_run_machine() -> None:
    run = Run("r", "ws", "t", "a", "developer", T0)
    run.move(RunStatus.RUNNING, now=T0)
    run.move(RunStatus.RUNNING, now=T0)  # taken over after a lost lease
    run.move(RunStatus.SUCCEEDED, now=T0)
    assert run.finished_at == T0
    assert run.lease_owner is None
    with pytest.raises(IllegalTransition, match="'succeeded' to 'running'"):
        run.move(RunStatus.RUNNING, now=T0)
    assert not RUN_MACHINE.can(RunStatus.PENDING, RunStatus.SUCCEEDED)

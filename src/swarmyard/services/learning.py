"""Keeping learning profiles up to date after each finished run."""

from __future__ import annotations

from datetime import timedelta

from ..domain import ALL_TYPES, Execution, compute_profile
from ..ports import UnitOfWork

__all__ = ["HISTORY", "HISTORY_RUNS", "record_execution"]

# Older executions weigh exp(-30/7) < 2% of a fresh one: not worth reading.
HISTORY = timedelta(days=30)
# And at most this many of the newest: confidence is full at 20, and 100
# outcomes pin a success rate to a few percent. Every finished run reads
# them twice (its type, all types), so this bounds the cost of finishing.
HISTORY_RUNS = 100


async def record_execution(uow: UnitOfWork, execution: Execution) -> None:
    """Store the execution and recompute the agent's profile for its task
    type and its all-types profile, inside the caller's transaction."""
    await uow.learning.add_execution(execution)
    now = execution.finished_at
    since = now - HISTORY
    for task_type in (execution.task_type, ALL_TYPES):
        history = await uow.learning.executions(
            execution.agent_id,
            task_type=None if task_type == ALL_TYPES else task_type,
            since=since,
            limit=HISTORY_RUNS,
        )
        await uow.learning.save_profile(
            compute_profile(uow.workspace_id, execution.agent_id, task_type, history, now)
        )

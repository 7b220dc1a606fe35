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
# them (of all types, and of its type when those do not cover it), so this
# bounds the cost of finishing.
HISTORY_RUNS = 100


async def record_execution(uow: UnitOfWork, execution: Execution) -> None:
    """Store the execution and recompute the agent's profile for its task
    type and its all-types profile, inside the caller's transaction."""
    await uow.learning.add_execution(execution)
    now = execution.finished_at
    since = now - HISTORY
    agent = execution.agent_id
    every_type = await uow.learning.executions(agent, since=since, limit=HISTORY_RUNS)
    of_type = [e for e in every_type if e.task_type == execution.task_type]
    if len(every_type) == HISTORY_RUNS and len(of_type) < HISTORY_RUNS:
        # Older executions of this type lie beyond the newest of all types.
        of_type = await uow.learning.executions(
            agent, task_type=execution.task_type, since=since, limit=HISTORY_RUNS
        )
    # Else the newest of all types hold every execution of this type in the
    # window, or its newest HISTORY_RUNS: one read serves both profiles.
    ws = uow.workspace_id
    await uow.learning.save_profile(compute_profile(ws, agent, execution.task_type, of_type, now))
    await uow.learning.save_profile(compute_profile(ws, agent, ALL_TYPES, every_type, now))

"""Learning profiles: how well an agent does each type of task.

Success is recency-weighted so that an agent recovers from a bad week and
cannot live on an old reputation: an execution of age ``a`` days weighs
``exp(-a / 7)``, times 3 while it is inside the last 7 days. Confidence
``min(1, executions / 20)`` keeps a lucky newcomer from being preferred over
an agent with a long record.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "ALL_TYPES",
    "DECAY_DAYS",
    "NEUTRAL_SUCCESS_RATE",
    "RECENT_DAYS",
    "RECENT_WEIGHT",
    "Execution",
    "LearningProfile",
    "compute_profile",
    "recency_weight",
]

RECENT_DAYS = 7.0
RECENT_WEIGHT = 3.0
DECAY_DAYS = 7.0
CONFIDENCE_EXECUTIONS = 20
# What an agent with no record is assumed to achieve: neither trusted nor shunned.
NEUTRAL_SUCCESS_RATE = 0.5
# Profile row that aggregates every task type of an agent.
ALL_TYPES = "*"


@dataclass(frozen=True, slots=True)
class Execution:
    """One finished run, as learning sees it."""

    agent_id: str
    task_type: str
    finished_at: datetime
    success: bool
    duration_s: float
    cost_microusd: int = 0


@dataclass(slots=True)
class LearningProfile:
    workspace_id: str
    agent_id: str
    task_type: str
    executions: int = 0
    success_rate: float = NEUTRAL_SUCCESS_RATE
    avg_duration_s: float = 0.0
    avg_cost_microusd: float = 0.0
    confidence: float = 0.0
    updated_at: datetime | None = None

    @property
    def expertise(self) -> float:
        """Recency-weighted success at this task type; nothing known counts as 0."""
        return self.success_rate if self.executions else 0.0


def recency_weight(age_days: float) -> float:
    age = max(0.0, age_days)
    weight = math.exp(-age / DECAY_DAYS)
    return weight * RECENT_WEIGHT if age <= RECENT_DAYS else weight


def compute_profile(
    workspace_id: str,
    agent_id: str,
    task_type: str,
    executions: Iterable[Execution],
    now: datetime,
) -> LearningProfile:
    """Build the profile from an agent's executions (of one type, or all for ``*``)."""
    count = 0
    weighted_success = weight_total = 0.0
    duration_total = 0.0
    cost_total = 0
    for ex in executions:
        count += 1
        w = recency_weight((now - ex.finished_at).total_seconds() / 86400.0)
        weight_total += w
        weighted_success += w if ex.success else 0.0
        duration_total += ex.duration_s
        cost_total += ex.cost_microusd
    if count == 0:
        return LearningProfile(workspace_id, agent_id, task_type, updated_at=now)
    return LearningProfile(
        workspace_id=workspace_id,
        agent_id=agent_id,
        task_type=task_type,
        executions=count,
        success_rate=weighted_success / weight_total if weight_total else NEUTRAL_SUCCESS_RATE,
        avg_duration_s=duration_total / count,
        avg_cost_microusd=cost_total / count,
        confidence=min(1.0, count / CONFIDENCE_EXECUTIONS),
        updated_at=now,
    )

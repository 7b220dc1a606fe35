"""Installed agents: a manifest running in a workspace with some replicas.

Replicas are concurrency slots: an agent with 2 replicas runs at most two
tasks at once. `running` counts the runs holding a slot right now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .errors import IllegalTransition

__all__ = ["Agent", "AgentHealth", "AgentStatus"]


class AgentStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  # paused by a person: takes no new work
    UPDATING = "updating"
    ERROR = "error"
    SCALING = "scaling"


class AgentHealth(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


_AGENT_MOVES: dict[AgentStatus, frozenset[AgentStatus]] = {
    AgentStatus.ACTIVE: frozenset(
        {AgentStatus.INACTIVE, AgentStatus.UPDATING, AgentStatus.ERROR, AgentStatus.SCALING}
    ),
    AgentStatus.INACTIVE: frozenset({AgentStatus.ACTIVE, AgentStatus.UPDATING}),
    AgentStatus.UPDATING: frozenset({AgentStatus.ACTIVE, AgentStatus.ERROR}),
    AgentStatus.ERROR: frozenset({AgentStatus.ACTIVE, AgentStatus.INACTIVE}),
    AgentStatus.SCALING: frozenset({AgentStatus.ACTIVE, AgentStatus.ERROR}),
}


@dataclass(slots=True)
class Agent:
    id: str
    workspace_id: str
    name: str
    manifest_id: str
    manifest_version: str
    role: str
    replicas: int
    created_at: datetime
    status: AgentStatus = AgentStatus.ACTIVE
    health: AgentHealth = AgentHealth.HEALTHY
    running: int = 0
    started_at: datetime | None = None
    tasks_succeeded: int = 0
    tasks_failed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_microusd: int = 0
    errors: int = 0
    consecutive_failures: int = 0
    updated_at: datetime | None = field(default=None)

    @property
    def free_slots(self) -> int:
        return max(0, self.replicas - self.running)

    @property
    def load(self) -> float:
        """Share of slots in use, 0.0-1.0 (over 1.0 only after a scale-down)."""
        return self.running / self.replicas if self.replicas else 1.0

    @property
    def takes_work(self) -> bool:
        return self.status is AgentStatus.ACTIVE and self.health is not AgentHealth.UNHEALTHY

    def move(self, target: AgentStatus) -> None:
        if target is self.status:
            return
        allowed = _AGENT_MOVES.get(self.status, frozenset())
        if target not in allowed:
            raise IllegalTransition(
                "agent", self.status.value, target.value, sorted(s.value for s in allowed)
            )
        self.status = target

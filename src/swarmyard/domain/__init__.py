"""The pure model of Swarmyard: entities, state machines, scoring and learning.

Nothing here does I/O or imports another layer; time and ids are injected.
"""

from .agent import Agent, AgentHealth, AgentStatus
from .clock import Clock, FakeClock, IdSource, SequentialIds, SystemClock, UlidIds
from .dag import find_cycle
from .errors import (
    Conflict,
    DomainError,
    IllegalTransition,
    NotFound,
    Problem,
    StaleAttempt,
    ValidationFailed,
)
from .identity import ApiKey, AuditEntry, Membership, Principal, RefreshToken, Role, User
from .learning import ALL_TYPES, Execution, LearningProfile, compute_profile, recency_weight
from .manifest import (
    AgentManifest,
    Capability,
    Complexity,
    Dependency,
    HealthCheck,
    ModelPreference,
    ModelTier,
    parse_version,
)
from .run import EventType, Run, RunEvent
from .schedule import MissedTicks, Schedule
from .scoring import Candidate, Score, choose, score
from .states import MANUAL_TASK_MOVES, RUN_MACHINE, TASK_MACHINE, RunStatus, TaskStatus
from .task import TASK_TYPES, Priority, Task
from .workspace import DEFAULT_WORKSPACE, Project, Workspace

__all__ = [
    "ALL_TYPES",
    "DEFAULT_WORKSPACE",
    "MANUAL_TASK_MOVES",
    "RUN_MACHINE",
    "TASK_MACHINE",
    "TASK_TYPES",
    "Agent",
    "AgentHealth",
    "AgentManifest",
    "AgentStatus",
    "ApiKey",
    "AuditEntry",
    "Candidate",
    "Capability",
    "Clock",
    "Complexity",
    "Conflict",
    "Dependency",
    "DomainError",
    "EventType",
    "Execution",
    "FakeClock",
    "HealthCheck",
    "IdSource",
    "IllegalTransition",
    "LearningProfile",
    "Membership",
    "MissedTicks",
    "ModelPreference",
    "ModelTier",
    "NotFound",
    "Principal",
    "Priority",
    "Problem",
    "Project",
    "RefreshToken",
    "Role",
    "Run",
    "RunEvent",
    "RunStatus",
    "Schedule",
    "Score",
    "SequentialIds",
    "StaleAttempt",
    "SystemClock",
    "Task",
    "TaskStatus",
    "UlidIds",
    "User",
    "ValidationFailed",
    "Workspace",
    "choose",
    "compute_profile",
    "find_cycle",
    "parse_version",
    "recency_weight",
    "score",
]

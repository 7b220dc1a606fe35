"""The pure model of Swarmyard: entities, state machines, scoring and learning.

Nothing here does I/O or imports another layer; time and ids are injected.
"""

from .agent import Agent, AgentHealth, AgentStatus
from .budget import (
    MICROUSD_PER_CENT,
    WARN_RATIO,
    Budget,
    BudgetCounter,
    BudgetPeriod,
    BudgetScope,
    BudgetTier,
    CounterKey,
    OnExceed,
    Reservation,
    cents_to_microusd,
    counter_keys,
    microusd_to_cents,
    tier_for,
    window_start,
)
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
from .ledger import LedgerEntry, ModelPrice, UsageGroup, UsageRow
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
from .providers import ModelSpec, PriceSpec, ProviderKind, ProviderSpec, model_ref
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
    "MICROUSD_PER_CENT",
    "RUN_MACHINE",
    "TASK_MACHINE",
    "TASK_TYPES",
    "WARN_RATIO",
    "Agent",
    "AgentHealth",
    "AgentManifest",
    "AgentStatus",
    "ApiKey",
    "AuditEntry",
    "Budget",
    "BudgetCounter",
    "BudgetPeriod",
    "BudgetScope",
    "BudgetTier",
    "Candidate",
    "Capability",
    "Clock",
    "Complexity",
    "Conflict",
    "CounterKey",
    "Dependency",
    "DomainError",
    "EventType",
    "Execution",
    "FakeClock",
    "HealthCheck",
    "IdSource",
    "IllegalTransition",
    "LearningProfile",
    "LedgerEntry",
    "Membership",
    "MissedTicks",
    "ModelPreference",
    "ModelPrice",
    "ModelSpec",
    "ModelTier",
    "NotFound",
    "OnExceed",
    "PriceSpec",
    "Principal",
    "Priority",
    "Problem",
    "Project",
    "ProviderKind",
    "ProviderSpec",
    "RefreshToken",
    "Reservation",
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
    "UsageGroup",
    "UsageRow",
    "User",
    "ValidationFailed",
    "Workspace",
    "cents_to_microusd",
    "choose",
    "compute_profile",
    "counter_keys",
    "find_cycle",
    "microusd_to_cents",
    "model_ref",
    "parse_version",
    "recency_weight",
    "score",
    "tier_for",
    "window_start",
]

"""The ports: every boundary between Swarmyard's core and the outside world.

Services and the runtime depend on these Protocols only. Each port has an
in-memory adapter (embedded mode is those adapters made production-grade)
and one conformance suite under ``tests/conformance`` that every adapter
passes.

Store: one `UnitOfWork` is one transaction in one workspace; every
repository method is scoped by that workspace — there is no way to reach
another tenant's row through it. Writes that race across processes are
guarded (slot counters update atomically, tasks carry a version, runs are
fenced by their attempt number).
"""

from .bus import Bus, BusClosed, BusMessage, Consumer, Subscription, WorkItem
from .models import ModelCall, ModelClient, ModelSelector, Tool, ToolContext, ToolError, ToolSpec
from .security import InvalidToken, PasswordHasher, TokenSigner
from .store import (
    AgentRepo,
    ApiKeyRepo,
    AuditFilter,
    AuditRepo,
    EventRepo,
    IdempotencyRepo,
    IdempotentResponse,
    IdentityUnitOfWork,
    LearningRepo,
    ManifestRepo,
    MembershipRepo,
    OutboxMessage,
    OutboxRepo,
    Page,
    ProjectRepo,
    RefreshTokenRepo,
    RunRepo,
    ScheduleRepo,
    Store,
    TaskFilter,
    TaskRepo,
    UnitOfWork,
    UserRepo,
    WorkspaceRulesRepo,
)

__all__ = [
    "AgentRepo",
    "ApiKeyRepo",
    "AuditFilter",
    "AuditRepo",
    "Bus",
    "BusClosed",
    "BusMessage",
    "Consumer",
    "EventRepo",
    "IdempotencyRepo",
    "IdempotentResponse",
    "IdentityUnitOfWork",
    "InvalidToken",
    "LearningRepo",
    "ManifestRepo",
    "MembershipRepo",
    "ModelCall",
    "ModelClient",
    "ModelSelector",
    "OutboxMessage",
    "OutboxRepo",
    "Page",
    "PasswordHasher",
    "ProjectRepo",
    "RefreshTokenRepo",
    "RunRepo",
    "ScheduleRepo",
    "Store",
    "Subscription",
    "TaskFilter",
    "TaskRepo",
    "TokenSigner",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolSpec",
    "UnitOfWork",
    "UserRepo",
    "WorkItem",
    "WorkspaceRulesRepo",
]

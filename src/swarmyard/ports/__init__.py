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
from .coordination import LeaderLease
from .embeddings import Embedder, EmbeddingFailed
from .mcp import (
    McpCallResult,
    McpConnector,
    McpEndpoint,
    McpRequestFailed,
    McpServerRepo,
    McpSession,
    McpToolInfo,
    McpUnavailable,
)
from .memory import MemoryQuery, MemoryRepo
from .models import (
    ModelCall,
    ModelClient,
    ModelClientFactory,
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
    PriceTable,
    TablePrice,
    Tool,
    ToolContext,
    ToolCost,
    ToolError,
    ToolSpec,
)
from .security import InvalidToken, PasswordHasher, SecretBox, SecretUnreadable, TokenSigner
from .skills import SkillInstallationRepo, SkillPackRepo
from .spend import (
    BudgetRepo,
    LedgerRepo,
    PriceRepo,
    ProviderRepo,
    SettingsRepo,
    StoredProvider,
    UsageFilter,
)
from .store import (
    AgentRepo,
    ApiKeyRepo,
    ApprovalRepo,
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
    "ApprovalRepo",
    "AuditFilter",
    "AuditRepo",
    "BudgetRepo",
    "Bus",
    "BusClosed",
    "BusMessage",
    "Consumer",
    "Embedder",
    "EmbeddingFailed",
    "EventRepo",
    "IdempotencyRepo",
    "IdempotentResponse",
    "IdentityUnitOfWork",
    "InvalidToken",
    "LeaderLease",
    "LearningRepo",
    "LedgerRepo",
    "ManifestRepo",
    "McpCallResult",
    "McpConnector",
    "McpEndpoint",
    "McpRequestFailed",
    "McpServerRepo",
    "McpSession",
    "McpToolInfo",
    "McpUnavailable",
    "MembershipRepo",
    "MemoryQuery",
    "MemoryRepo",
    "ModelCall",
    "ModelClient",
    "ModelClientFactory",
    "ModelError",
    "ModelRateLimited",
    "ModelRequestRejected",
    "ModelUnavailable",
    "OutboxMessage",
    "OutboxRepo",
    "Page",
    "PasswordHasher",
    "PriceRepo",
    "PriceTable",
    "ProjectRepo",
    "ProviderRepo",
    "RefreshTokenRepo",
    "RunRepo",
    "ScheduleRepo",
    "SecretBox",
    "SecretUnreadable",
    "SettingsRepo",
    "SkillInstallationRepo",
    "SkillPackRepo",
    "Store",
    "StoredProvider",
    "Subscription",
    "TablePrice",
    "TaskFilter",
    "TaskRepo",
    "TokenSigner",
    "Tool",
    "ToolContext",
    "ToolCost",
    "ToolError",
    "ToolSpec",
    "UnitOfWork",
    "UsageFilter",
    "UserRepo",
    "WorkItem",
    "WorkspaceRulesRepo",
]

"""The relational schema, one definition for SQLite and PostgreSQL.

Every table but `users` and `refresh_tokens` carries `workspace_id` and
its indexes lead with it, because every query of a unit of work is scoped
to one workspace. Those two hold identities, which live above workspaces:
a person signs in before any workspace is chosen. Money columns
(`cost_microusd`) are integer micro-USD so sums never drift. The Alembic
revisions under `migrations/` must produce exactly this metadata; a test
compares them so the two databases cannot drift apart.

The tables of MCP servers, memory and skill packs are in the `tables_*.py`
modules beside this one, on the same metadata (`table_base.py`); they are
imported here, so `tables.metadata` is the whole schema.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .coltypes import AutoId, Json, UtcDateTime
from .table_base import metadata
from .table_base import workspace_column as _workspace
from .tables_mcp import mcp_servers
from .tables_memory import (
    MEMORY_FTS,
    MEMORY_TSV_INDEX,
    is_search_index,
    memory_items,
    memory_vectors,
)
from .tables_skills import skill_installations, skill_packs

__all__ = [
    "MEMORY_FTS",
    "MEMORY_TSV_INDEX",
    "agents",
    "api_keys",
    "approvals",
    "audit",
    "budget_counters",
    "budget_reservations",
    "budgets",
    "executions",
    "idempotency_keys",
    "is_search_index",
    "learning_profiles",
    "ledger",
    "manifests",
    "mcp_servers",
    "memberships",
    "memory_items",
    "memory_vectors",
    "metadata",
    "model_prices",
    "outbox",
    "projects",
    "providers",
    "refresh_tokens",
    "run_events",
    "runs",
    "schedules",
    "skill_installations",
    "skill_packs",
    "tasks",
    "users",
    "workspace_documents",
    "workspace_settings",
    "workspaces",
]

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# One row per workspace, written whole (upserted): what a workspace sets for
# itself rather than owns as records. `authz_rules` is Cedar text added to
# the base policy ('' when the workspace adds none).
workspace_settings = Table(
    "workspace_settings",
    metadata,
    Column(
        "workspace_id",
        String,
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("authz_rules", Text, nullable=False, server_default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("name", String, nullable=False),
    Column("description", Text, nullable=False),
    Column("workdir", String),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    Index(None, "workspace_id", "created_at"),
)

manifests = Table(
    "manifests",
    metadata,
    _workspace(),
    Column("id", String, nullable=False),
    Column("version", String, nullable=False),
    Column("role", String, nullable=False),
    Column("data", Json, nullable=False),
    PrimaryKeyConstraint("workspace_id", "id", "version"),
)

agents = Table(
    "agents",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("name", String, nullable=False),
    Column("manifest_id", String, nullable=False),
    Column("manifest_version", String, nullable=False),
    Column("role", String, nullable=False),
    Column("replicas", Integer, nullable=False),
    Column("running", Integer, nullable=False),
    Column("status", String, nullable=False),
    Column("health", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("tasks_succeeded", BigInteger, nullable=False),
    Column("tasks_failed", BigInteger, nullable=False),
    Column("tokens_in", BigInteger, nullable=False),
    Column("tokens_out", BigInteger, nullable=False),
    Column("cost_microusd", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("consecutive_failures", Integer, nullable=False),
    Column("updated_at", UtcDateTime),
    Index(None, "workspace_id", "role"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("project_id", String),
    Column("title", String, nullable=False),
    Column("description", Text, nullable=False),
    Column("type", String, nullable=False),
    Column("priority", SmallInteger, nullable=False),  # Priority.rank: urgent is highest
    Column("complexity", String, nullable=False),
    Column("required_role", String),
    Column("required_capabilities", Json, nullable=False),
    Column("depends_on", Json, nullable=False),
    Column("parent_id", String),
    Column("delegated_by_run", String),
    Column("delegation_depth", Integer, nullable=False),
    Column("status", String, nullable=False),
    Column("assignee_agent_id", String),
    Column("result", Text),
    Column("waiting_reason", Text),
    Column("cost_microusd", BigInteger, nullable=False),
    Column("tokens_in", BigInteger, nullable=False, server_default="0"),
    Column("tokens_out", BigInteger, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("review_required", Boolean, nullable=False),
    Column("labels", Json, nullable=False),
    Column("origin_key", String),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    # NULL origin keys are distinct in both databases: only keyed tasks are unique.
    UniqueConstraint("workspace_id", "origin_key"),
    Index(None, "workspace_id", "status", "priority", "created_at"),
    Index(None, "workspace_id", "created_at"),
    Index(None, "workspace_id", "project_id"),
    Index(None, "workspace_id", "parent_id"),
    Index(None, "workspace_id", "assignee_agent_id"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("task_id", String, nullable=False),
    Column("agent_id", String, nullable=False),
    Column("role", String, nullable=False),
    Column("status", String, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("lease_owner", String),
    Column("lease_expires_at", UtcDateTime),
    Column("input", Text, nullable=False),
    Column("output", Text),
    Column("error", Text),
    Column("steps", Integer, nullable=False),
    Column("tokens_in", BigInteger, nullable=False),
    Column("tokens_out", BigInteger, nullable=False),
    Column("cost_microusd", BigInteger, nullable=False),
    Column("model", String),
    Column("stop_requested", Boolean, nullable=False),
    Column("assignment", Json, nullable=False),
    Column("next_seq", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    # The agent loop's message history after the last step, for resumption.
    Column("checkpoint", LargeBinary),
    Index(None, "workspace_id", "task_id"),
    Index(None, "workspace_id", "agent_id", "status"),
    Index(None, "workspace_id", "created_at"),
    Index(None, "status", "lease_expires_at"),
)

run_events = Table(
    "run_events",
    metadata,
    Column("run_id", String, nullable=False),
    Column("seq", Integer, nullable=False),
    _workspace(),
    Column("task_id", String),
    Column("type", String, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("payload", Json, nullable=False),
    PrimaryKeyConstraint("run_id", "seq"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    _workspace(),
    Column("agent_id", String, nullable=False),
    Column("task_type", String, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("cost_microusd", BigInteger, nullable=False),
    Index(None, "workspace_id", "agent_id", "finished_at"),
)

learning_profiles = Table(
    "learning_profiles",
    metadata,
    _workspace(),
    Column("agent_id", String, nullable=False),
    Column("task_type", String, nullable=False),
    Column("executions", Integer, nullable=False),
    Column("success_rate", Float, nullable=False),
    Column("avg_duration_s", Float, nullable=False),
    Column("avg_cost_microusd", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("updated_at", UtcDateTime),
    PrimaryKeyConstraint("workspace_id", "agent_id", "task_type"),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("name", String, nullable=False),
    Column("cron", String, nullable=False),
    Column("timezone", String, nullable=False),
    Column("template", Json, nullable=False),
    Column("next_run_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("missed", String, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("last_run_at", UtcDateTime),
    Column("last_task_id", String),
    Column("runs", Integer, nullable=False),
    Column("updated_at", UtcDateTime),
    Index(None, "workspace_id", "enabled", "next_run_at"),
)

# One per tool call a policy held back for a person (domain/approval.py).
approvals = Table(
    "approvals",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("run_id", String, nullable=False),
    Column("task_id", String, nullable=False),
    Column("call_id", String, nullable=False),
    Column("tool", String, nullable=False),
    Column("rule", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("args", Json, nullable=False),
    Column("role", String, nullable=False),
    Column("status", String, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("decided_by", String),
    Column("comment", Text, nullable=False),
    # A resumed run asks for the same call again: it finds this row instead.
    UniqueConstraint("workspace_id", "run_id", "call_id"),
    Index(None, "workspace_id", "status", "deadline"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _workspace(),
    Column("key", String, nullable=False),
    Column("request_hash", String, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("workspace_id", "key"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("subject", String, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("work_queue", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The relay reads every workspace's pending messages oldest first.
    Index(None, "created_at", "id"),
)

# ------------------------------------------------------------------ identities

users = Table(
    "users",
    metadata,
    Column("id", String, primary_key=True),
    # Written lower-case by the store, so plain equality is case-insensitive
    # and the unique constraint refuses the same address in another case.
    Column("email", String, nullable=False, unique=True),
    Column("name", String, nullable=False),
    Column("password_hash", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled", Boolean, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    _workspace(),
    Column("user_id", String, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("workspace_id", "user_id"),
    # Signing in lists one user's memberships across every workspace.
    Index(None, "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("name", String, nullable=False),
    Column("role", String, nullable=False),
    Column("secret_hash", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String),
    Column("expires_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
    Index(None, "workspace_id", "created_at"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", String, primary_key=True),
    Column("user_id", String, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # Reusing a spent token revokes its whole rotation chain at once.
    Column("family_id", String, nullable=False, index=True),
    Column("token_hash", String, nullable=False),
    # No foreign key: only a hint of where the session signed in, checked
    # against the user's memberships at every refresh.
    Column("workspace_id", String),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

audit = Table(
    "audit",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("actor", String, nullable=False),
    Column("action", String, nullable=False),
    Column("resource", String, nullable=False),
    Column("result", String, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("ip", String),
    Column("details", Json, nullable=False),
    Index(None, "workspace_id", "at"),
)

# ------------------------------------------------------------------ model spending

budgets = Table(
    "budgets",
    metadata,
    _workspace(),
    Column("scope", String, nullable=False),
    Column("scope_id", String, nullable=False),  # '' for the workspace itself
    Column("monthly_limit_microusd", BigInteger),
    Column("weekly_limit_microusd", BigInteger),
    Column("on_exceed", String, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String, nullable=False),
    PrimaryKeyConstraint("workspace_id", "scope", "scope_id"),
)

# One row per budget window, a cache of the ledger: created from the
# ledger's sum when first needed, then moved only by guarded UPDATEs.
budget_counters = Table(
    "budget_counters",
    metadata,
    _workspace(),
    Column("scope", String, nullable=False),
    Column("scope_id", String, nullable=False),
    Column("period", String, nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("spent_microusd", BigInteger, nullable=False),
    Column("reserved_microusd", BigInteger, nullable=False),
    PrimaryKeyConstraint("workspace_id", "scope", "scope_id", "period", "window_start"),
)

budget_reservations = Table(
    "budget_reservations",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("amount_microusd", BigInteger, nullable=False),
    Column("keys", Json, nullable=False),  # the counters it holds, to release exactly those
    Column("created_at", UtcDateTime, nullable=False),
    # The sweep releases expired reservations of every workspace.
    Column("expires_at", UtcDateTime, nullable=False, index=True),
    Column("run_id", String),
    Column("model", String, nullable=False),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", String, primary_key=True),
    _workspace(),
    Column("at", UtcDateTime, nullable=False),
    # The UTC day of `at` as text: grouping by day is then the same plain
    # GROUP BY on both databases.
    Column("day", String, nullable=False),
    Column("provider", String, nullable=False),
    Column("model", String, nullable=False),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("tokens_cached", Integer, nullable=False),
    Column("cost_microusd", BigInteger, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("run_id", String),
    Column("task_id", String),
    Column("agent_id", String),
    Column("project_id", String),
    Column("role", String, nullable=False),
    Column("task_type", String, nullable=False),
    Column("reason", Text, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
    Index(None, "workspace_id", "at"),
    Index(None, "workspace_id", "run_id"),
    Index(None, "workspace_id", "role", "task_type"),
)

model_prices = Table(
    "model_prices",
    metadata,
    _workspace(),
    Column("model_ref", String, nullable=False),
    Column("input_per_mtok", Float, nullable=False),
    Column("output_per_mtok", Float, nullable=False),
    Column("cached_input_per_mtok", Float, nullable=False),
    Column("updated_at", UtcDateTime),
    Column("updated_by", String, nullable=False),
    PrimaryKeyConstraint("workspace_id", "model_ref"),
)

providers = Table(
    "providers",
    metadata,
    _workspace(),
    Column("name", String, nullable=False),
    Column("spec", Json, nullable=False),  # ProviderSpec, validated again when read
    Column("sealed_key", Text),  # encrypted by the secret box, never the key itself
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String, nullable=False),
    PrimaryKeyConstraint("workspace_id", "name"),
)

# Small JSON documents a workspace sets for itself, by name (routing rules).
workspace_documents = Table(
    "workspace_documents",
    metadata,
    _workspace(),
    Column("name", String, nullable=False),
    Column("body", Json, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String, nullable=False),
    PrimaryKeyConstraint("workspace_id", "name"),
)

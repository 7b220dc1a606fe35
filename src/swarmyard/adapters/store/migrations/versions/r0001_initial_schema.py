"""Initial schema: workspaces and everything scoped to them.

Revision ID: 0001
Revises:
Create Date: 2026-01-05

Written out in full rather than importing `tables.py`: a revision must keep
producing the schema of its day after the live definitions move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = (
    "workspaces",
    "projects",
    "manifests",
    "agents",
    "tasks",
    "runs",
    "run_events",
    "executions",
    "learning_profiles",
    "schedules",
    "idempotency_keys",
    "outbox",
)


def _time(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False)


def _str(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _int(name: str, kind: type[sa.Integer] = sa.Integer) -> sa.Column[object]:
    return sa.Column(name, kind(), nullable=False)


def _tenant(table: str) -> list[SchemaItem]:
    return [
        _str("workspace_id"),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f(f"fk_{table}_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
    ]


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "workspaces",
        _str("id"),
        _str("name"),
        _time("created_at", nullable=False),
        _pk("workspaces", "id"),
    )
    op.create_table(
        "projects",
        _str("id"),
        *_tenant("projects"),
        _str("name"),
        sa.Column("description", sa.Text(), nullable=False),
        _str("workdir", nullable=True),
        _time("created_at", nullable=False),
        _time("updated_at"),
        _pk("projects", "id"),
    )
    _index("projects", "workspace_id", "created_at")
    op.create_table(
        "manifests",
        *_tenant("manifests"),
        _str("id"),
        _str("version"),
        _str("role"),
        _json("data"),
        _pk("manifests", "workspace_id", "id", "version"),
    )
    _create_agents()
    _create_tasks()
    _create_runs()
    _create_learning()
    _create_schedules()
    _create_delivery()


def _create_agents() -> None:
    op.create_table(
        "agents",
        _str("id"),
        *_tenant("agents"),
        _str("name"),
        _str("manifest_id"),
        _str("manifest_version"),
        _str("role"),
        _int("replicas"),
        _int("running"),
        _str("status"),
        _str("health"),
        _time("created_at", nullable=False),
        _time("started_at"),
        _int("tasks_succeeded", sa.BigInteger),
        _int("tasks_failed", sa.BigInteger),
        _int("tokens_in", sa.BigInteger),
        _int("tokens_out", sa.BigInteger),
        _int("cost_microusd", sa.BigInteger),
        _int("errors", sa.BigInteger),
        _int("consecutive_failures"),
        _time("updated_at"),
        _pk("agents", "id"),
    )
    _index("agents", "workspace_id", "role")


def _create_tasks() -> None:
    op.create_table(
        "tasks",
        _str("id"),
        *_tenant("tasks"),
        _str("project_id", nullable=True),
        _str("title"),
        sa.Column("description", sa.Text(), nullable=False),
        _str("type"),
        _int("priority", sa.SmallInteger),
        _str("complexity"),
        _str("required_role", nullable=True),
        _json("required_capabilities"),
        _json("depends_on"),
        _str("parent_id", nullable=True),
        _str("delegated_by_run", nullable=True),
        _int("delegation_depth"),
        _str("status"),
        _str("assignee_agent_id", nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("waiting_reason", sa.Text(), nullable=True),
        _int("cost_microusd", sa.BigInteger),
        _int("attempts"),
        _int("max_attempts"),
        sa.Column("review_required", sa.Boolean(), nullable=False),
        _json("labels"),
        _str("origin_key", nullable=True),
        _int("version"),
        _time("created_at", nullable=False),
        _time("updated_at"),
        _time("finished_at"),
        _pk("tasks", "id"),
        sa.UniqueConstraint(
            "workspace_id", "origin_key", name=op.f("uq_tasks_workspace_id_origin_key")
        ),
    )
    _index("tasks", "workspace_id", "status", "priority", "created_at")
    _index("tasks", "workspace_id", "created_at")
    _index("tasks", "workspace_id", "project_id")
    _index("tasks", "workspace_id", "parent_id")
    _index("tasks", "workspace_id", "assignee_agent_id")


def _create_runs() -> None:
    op.create_table(
        "runs",
        _str("id"),
        *_tenant("runs"),
        _str("task_id"),
        _str("agent_id"),
        _str("role"),
        _str("status"),
        _int("attempt"),
        _str("lease_owner", nullable=True),
        _time("lease_expires_at"),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _int("steps"),
        _int("tokens_in", sa.BigInteger),
        _int("tokens_out", sa.BigInteger),
        _int("cost_microusd", sa.BigInteger),
        _str("model", nullable=True),
        sa.Column("stop_requested", sa.Boolean(), nullable=False),
        _json("assignment"),
        _int("next_seq"),
        _time("created_at", nullable=False),
        _time("started_at"),
        _time("finished_at"),
        sa.Column("checkpoint", sa.LargeBinary(), nullable=True),
        _pk("runs", "id"),
    )
    _index("runs", "workspace_id", "task_id")
    _index("runs", "workspace_id", "agent_id", "status")
    _index("runs", "workspace_id", "created_at")
    _index("runs", "status", "lease_expires_at")
    op.create_table(
        "run_events",
        _str("run_id"),
        _int("seq"),
        *_tenant("run_events"),
        _str("task_id", nullable=True),
        _str("type"),
        _time("at", nullable=False),
        _json("payload"),
        _pk("run_events", "run_id", "seq"),
    )


def _create_learning() -> None:
    op.create_table(
        "executions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        *_tenant("executions"),
        _str("agent_id"),
        _str("task_type"),
        _time("finished_at", nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        _int("cost_microusd", sa.BigInteger),
        _pk("executions", "id"),
    )
    _index("executions", "workspace_id", "agent_id", "finished_at")
    op.create_table(
        "learning_profiles",
        *_tenant("learning_profiles"),
        _str("agent_id"),
        _str("task_type"),
        _int("executions"),
        sa.Column("success_rate", sa.Float(), nullable=False),
        sa.Column("avg_duration_s", sa.Float(), nullable=False),
        sa.Column("avg_cost_microusd", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        _time("updated_at"),
        _pk("learning_profiles", "workspace_id", "agent_id", "task_type"),
    )


def _create_schedules() -> None:
    op.create_table(
        "schedules",
        _str("id"),
        *_tenant("schedules"),
        _str("name"),
        _str("cron"),
        _str("timezone"),
        _json("template"),
        _time("next_run_at", nullable=False),
        _time("created_at", nullable=False),
        _str("missed"),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _time("last_run_at"),
        _str("last_task_id", nullable=True),
        _int("runs"),
        _time("updated_at"),
        _pk("schedules", "id"),
    )
    _index("schedules", "workspace_id", "enabled", "next_run_at")


def _create_delivery() -> None:
    op.create_table(
        "idempotency_keys",
        *_tenant("idempotency_keys"),
        _str("key"),
        _str("request_hash"),
        _int("status_code"),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        _time("created_at", nullable=False),
        _pk("idempotency_keys", "workspace_id", "key"),
    )
    op.create_table(
        "outbox",
        _str("id"),
        *_tenant("outbox"),
        _str("subject"),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("work_queue", sa.Boolean(), nullable=False),
        _time("created_at", nullable=False),
        _pk("outbox", "id"),
    )
    _index("outbox", "created_at", "id")


def downgrade() -> None:
    # Children first: every table references workspaces.
    for table in reversed(_TABLES):
        op.drop_table(table)

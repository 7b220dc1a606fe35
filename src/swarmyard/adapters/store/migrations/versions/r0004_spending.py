"""Model spending: budgets, their counters and reservations, the ledger,
price overrides, providers registered through the API, workspace documents.

Revision ID: 0004
Revises: 0003
Create Date: 2026-03-16

Only new tables, so nothing existing is copied on SQLite. Every one is
owned by a workspace and goes with it. Written out in full rather than
importing `tables.py`, like every revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = (
    "budgets",
    "budget_counters",
    "budget_reservations",
    "ledger",
    "model_prices",
    "providers",
    "workspace_documents",
)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False)


def _str(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _text(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _int(
    name: str, kind: type[sa.Integer] = sa.Integer, *, nullable: bool = False
) -> sa.Column[object]:
    return sa.Column(name, kind(), nullable=nullable)


def _float(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Float(), nullable=False)


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


def _updated(*, nullable: bool = False) -> list[SchemaItem]:
    return [_time("updated_at", nullable=nullable), _str("updated_by")]


def upgrade() -> None:
    op.create_table(
        "budgets",
        *_tenant("budgets"),
        _str("scope"),
        _str("scope_id"),
        _int("monthly_limit_microusd", sa.BigInteger, nullable=True),
        _int("weekly_limit_microusd", sa.BigInteger, nullable=True),
        _str("on_exceed"),
        *_updated(),
        _pk("budgets", "workspace_id", "scope", "scope_id"),
    )
    op.create_table(
        "budget_counters",
        *_tenant("budget_counters"),
        _str("scope"),
        _str("scope_id"),
        _str("period"),
        _time("window_start"),
        _int("spent_microusd", sa.BigInteger),
        _int("reserved_microusd", sa.BigInteger),
        _pk("budget_counters", "workspace_id", "scope", "scope_id", "period", "window_start"),
    )
    op.create_table(
        "budget_reservations",
        _str("id"),
        *_tenant("budget_reservations"),
        _int("amount_microusd", sa.BigInteger),
        _json("keys"),
        _time("created_at"),
        _time("expires_at"),
        _str("run_id", nullable=True),
        _str("model"),
        _pk("budget_reservations", "id"),
    )
    _index("budget_reservations", "expires_at")
    op.create_table(
        "ledger",
        _str("id"),
        *_tenant("ledger"),
        _time("at"),
        _str("day"),
        _str("provider"),
        _str("model"),
        _int("tokens_in"),
        _int("tokens_out"),
        _int("tokens_cached"),
        _int("cost_microusd", sa.BigInteger),
        _float("latency_ms"),
        _str("run_id", nullable=True),
        _str("task_id", nullable=True),
        _str("agent_id", nullable=True),
        _str("project_id", nullable=True),
        _str("role"),
        _str("task_type"),
        _text("reason"),
        sa.Column("ok", sa.Boolean(), nullable=False),
        _text("error", nullable=True),
        _pk("ledger", "id"),
    )
    _index("ledger", "workspace_id", "at")
    _index("ledger", "workspace_id", "run_id")
    _index("ledger", "workspace_id", "role", "task_type")
    op.create_table(
        "model_prices",
        *_tenant("model_prices"),
        _str("model_ref"),
        _float("input_per_mtok"),
        _float("output_per_mtok"),
        _float("cached_input_per_mtok"),
        *_updated(nullable=True),
        _pk("model_prices", "workspace_id", "model_ref"),
    )
    op.create_table(
        "providers",
        *_tenant("providers"),
        _str("name"),
        _json("spec"),
        _text("sealed_key", nullable=True),
        *_updated(),
        _pk("providers", "workspace_id", "name"),
    )
    op.create_table(
        "workspace_documents",
        *_tenant("workspace_documents"),
        _str("name"),
        _json("body"),
        *_updated(),
        _pk("workspace_documents", "workspace_id", "name"),
    )


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)

"""Identities: users, their memberships, API keys, refresh tokens and the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-02

Users and refresh tokens are the first tables without a `workspace_id`: a
person exists, and signs in, before any workspace is chosen. Written out
in full rather than importing `tables.py`, like every revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# In creation order; dropped in reverse, children before the users they reference.
_TABLES = ("users", "memberships", "api_keys", "refresh_tokens", "audit")


def _time(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


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


def _of_user(table: str) -> list[SchemaItem]:
    return [
        _str("user_id"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f(f"fk_{table}_user_id_users"),
            ondelete="CASCADE",
        ),
    ]


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "users",
        _str("id"),
        _str("email"),
        _str("name"),
        _str("password_hash"),
        _time("created_at", nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        _pk("users", "id"),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "memberships",
        *_tenant("memberships"),
        *_of_user("memberships"),
        _str("role"),
        _time("created_at", nullable=False),
        _pk("memberships", "workspace_id", "user_id"),
    )
    _index("memberships", "user_id")
    op.create_table(
        "api_keys",
        _str("id"),
        *_tenant("api_keys"),
        _str("name"),
        _str("role"),
        _str("secret_hash"),
        _time("created_at", nullable=False),
        _str("created_by", nullable=True),
        _time("expires_at"),
        _time("revoked_at"),
        _time("last_used_at"),
        _pk("api_keys", "id"),
    )
    _index("api_keys", "workspace_id", "created_at")
    op.create_table(
        "refresh_tokens",
        _str("id"),
        *_of_user("refresh_tokens"),
        _str("family_id"),
        _str("token_hash"),
        _str("workspace_id", nullable=True),
        _time("created_at", nullable=False),
        _time("expires_at", nullable=False),
        _time("used_at"),
        _time("revoked_at"),
        _pk("refresh_tokens", "id"),
    )
    _index("refresh_tokens", "family_id")
    op.create_table(
        "audit",
        _str("id"),
        *_tenant("audit"),
        _str("actor"),
        _str("action"),
        _str("resource"),
        _str("result"),
        _time("at", nullable=False),
        _str("ip", nullable=True),
        sa.Column(
            "details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        _pk("audit", "id"),
    )
    _index("audit", "workspace_id", "at")


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)

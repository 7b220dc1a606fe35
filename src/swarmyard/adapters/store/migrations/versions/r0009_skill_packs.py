"""Skill packs: custom packs per workspace (every version) and installed packs.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-17

New tables only. Written out in full rather than importing `tables_skills.py`,
like every revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "skill_packs",
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        _workspace_fk("skill_packs"),
        sa.PrimaryKeyConstraint("workspace_id", "id", "version", name=op.f("pk_skill_packs")),
    )
    op.create_table(
        "skill_installations",
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("pack_id", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("roles", _json(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("installed_by", sa.String(), nullable=False),
        _workspace_fk("skill_installations"),
        sa.PrimaryKeyConstraint("workspace_id", "pack_id", name=op.f("pk_skill_installations")),
    )


def downgrade() -> None:
    op.drop_table("skill_installations")
    op.drop_table("skill_packs")

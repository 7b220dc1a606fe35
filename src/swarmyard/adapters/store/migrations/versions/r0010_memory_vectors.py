"""Embeddings of memory items, for search by similarity beside full text.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-19

A new table only: at most one vector per item, deleted with it. Written out
in full rather than importing `tables_memory.py`, like every revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "memory_vectors",
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("dims", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["memory_items.id"],
            name=op.f("fk_memory_vectors_item_id_memory_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_memory_vectors_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_memory_vectors")),
    )
    op.create_index(
        op.f("ix_memory_vectors_workspace_id_model_dims"),
        "memory_vectors",
        ["workspace_id", "model", "dims"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_memory_vectors_workspace_id_model_dims"), table_name="memory_vectors")
    op.drop_table("memory_vectors")

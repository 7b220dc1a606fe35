"""Tokens on tasks: what a card's runs (and its subtasks' runs) consumed,
beside the cost it already carries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Written out in full rather than importing `tables.py`, like every revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("tokens_in", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("tokens_out", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("tokens_out")
        batch.drop_column("tokens_in")

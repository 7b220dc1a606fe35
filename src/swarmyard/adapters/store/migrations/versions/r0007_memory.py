"""Long-term memory and shared context, with a full-text index on each database.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09

A new table, plus what SQLAlchemy's metadata cannot describe (so
`tables.py` only names it): on SQLite an FTS5 table over the items' text
and tags, external content kept in step by triggers, so no write path can
forget the index; on PostgreSQL a GIN index over the same text as
`to_tsvector('simple', …)`. Written out in full rather than importing
`tables.py`, like every revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# FTS5 takes the indexed columns' values from memory_items by rowid (`seq`);
# a deleted or changed row must be taken out with its old values.
_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE memory_items_fts USING fts5("
    "text, tags, content='memory_items', content_rowid='seq')",
    "CREATE TRIGGER memory_items_fts_insert AFTER INSERT ON memory_items BEGIN "
    "INSERT INTO memory_items_fts(rowid, text, tags) VALUES (new.seq, new.text, new.tags); "
    "END",
    "CREATE TRIGGER memory_items_fts_delete AFTER DELETE ON memory_items BEGIN "
    "INSERT INTO memory_items_fts(memory_items_fts, rowid, text, tags) "
    "VALUES ('delete', old.seq, old.text, old.tags); "
    "END",
    "CREATE TRIGGER memory_items_fts_update AFTER UPDATE ON memory_items BEGIN "
    "INSERT INTO memory_items_fts(memory_items_fts, rowid, text, tags) "
    "VALUES ('delete', old.seq, old.text, old.tags); "
    "INSERT INTO memory_items_fts(rowid, text, tags) VALUES (new.seq, new.text, new.tags); "
    "END",
)
_SQLITE_FTS_DROP = (
    "DROP TRIGGER IF EXISTS memory_items_fts_update",
    "DROP TRIGGER IF EXISTS memory_items_fts_delete",
    "DROP TRIGGER IF EXISTS memory_items_fts_insert",
    "DROP TABLE IF EXISTS memory_items_fts",
)
# The very expression sql_memory_items.postgres_document() queries with.
_POSTGRES_INDEX = (
    "CREATE INDEX ix_memory_items_search ON memory_items USING gin "
    "(to_tsvector('simple'::regconfig, text || ' ' || CAST(tags AS TEXT)))"
)


def upgrade() -> None:
    op.create_table(
        "memory_items",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("workspace_id", sa.String(), nullable=False),
        sa.Column("agent_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("task_id", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_memory_items_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_memory_items")),
        sa.UniqueConstraint("id", name=op.f("uq_memory_items_id")),
    )
    for columns in (
        ("workspace_id", "agent_id", "created_at"),
        ("workspace_id", "run_id"),
        ("workspace_id", "expires_at"),
    ):
        op.create_index(op.f(f"ix_memory_items_{'_'.join(columns)}"), "memory_items", columns)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(_POSTGRES_INDEX)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_FTS_DROP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_memory_items_search")
    for columns in (
        ("workspace_id", "expires_at"),
        ("workspace_id", "run_id"),
        ("workspace_id", "agent_id", "created_at"),
    ):
        op.drop_index(op.f(f"ix_memory_items_{'_'.join(columns)}"), table_name="memory_items")
    op.drop_table("memory_items")

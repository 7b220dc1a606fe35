"""What every table module shares: the one `MetaData` (with its naming
convention) and the workspace column.

The tables themselves are in `tables.py` and the `tables_*.py` modules
beside it; `tables.py` imports those, so whoever reads `tables.metadata`
(Alembic's environment, the schema tests) sees every table.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, MetaData, String

__all__ = ["metadata", "workspace_column"]

# Named constraints keep batch (copy-and-move) migrations on SQLite workable.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


def workspace_column() -> Column[str]:
    return Column(
        "workspace_id",
        String,
        ForeignKey("workspaces.id", ondelete="CASCADE"),
        nullable=False,
    )

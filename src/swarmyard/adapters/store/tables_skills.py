"""The tables of skill packs (domain/skill.py), on the shared metadata
(`table_base.py`; `tables.py` imports them). The Alembic revision 0009
creates them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, PrimaryKeyConstraint, String, Table

from .coltypes import Json, UtcDateTime
from .table_base import metadata
from .table_base import workspace_column as _workspace

__all__ = ["skill_installations", "skill_packs"]


# Custom packs, every version kept; `data` is the whole validated pack.
skill_packs = Table(
    "skill_packs",
    metadata,
    _workspace(),
    Column("id", String, nullable=False),
    Column("version", String, nullable=False),
    Column("data", Json, nullable=False),
    PrimaryKeyConstraint("workspace_id", "id", "version"),
)

# One row per installed pack (built-in or custom). `version` NULL follows
# the latest version; `roles` NULL keeps the pack's own roles.
skill_installations = Table(
    "skill_installations",
    metadata,
    _workspace(),
    Column("pack_id", String, nullable=False),
    Column("version", String),
    Column("roles", Json),
    Column("enabled", Boolean, nullable=False),
    Column("installed_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("installed_by", String, nullable=False),
    PrimaryKeyConstraint("workspace_id", "pack_id"),
)

"""The tables of long-term memory and shared context (domain/memory.py): the
items, their vectors, and the names of their full-text indexes."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from .coltypes import AutoId, Json, UtcDateTime
from .table_base import metadata
from .table_base import workspace_column as _workspace

__all__ = ["MEMORY_FTS", "MEMORY_TSV_INDEX", "is_search_index", "memory_items", "memory_vectors"]

# Long-term memory and shared context (domain/memory.py). `seq` is only the
# key SQLite's full-text index refers to: FTS5 with external content needs a
# stable integer rowid, which only an INTEGER PRIMARY KEY is (VACUUM may
# renumber any other rowid). Everything else uses `id`.
memory_items = Table(
    "memory_items",
    metadata,
    Column("seq", AutoId, primary_key=True, autoincrement=True),
    Column("id", String, nullable=False, unique=True),
    _workspace(),
    Column("agent_id", String),  # NULL: shared with the whole workspace
    Column("kind", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("tags", Json, nullable=False),
    Column("run_id", String),
    Column("task_id", String),
    Column("source", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Index(None, "workspace_id", "agent_id", "created_at"),
    Index(None, "workspace_id", "run_id"),
    Index(None, "workspace_id", "expires_at"),
)

# At most one embedding per item (services/memory_index.py), gone with its
# item. `model` names the vector space: search compares only vectors of the
# configured model and of its length (`dims`). `vector` is `dims` float32
# values, little-endian, at unit length (adapters/store/vectors.py).
memory_vectors = Table(
    "memory_vectors",
    metadata,
    Column(
        "item_id",
        String,
        ForeignKey("memory_items.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _workspace(),
    Column("model", String, nullable=False),
    Column("dims", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Index(None, "workspace_id", "model", "dims"),
)

# The full-text indexes of memory items, made by their revision, are outside
# this metadata because SQLAlchemy cannot describe them: SQLite's FTS5 table
# (with the shadow tables FTS5 keeps beside it, memory_items_fts_*) and
# PostgreSQL's GIN index over to_tsvector('simple', …). Schema comparisons
# leave them out.
MEMORY_FTS = "memory_items_fts"
MEMORY_TSV_INDEX = "ix_memory_items_search"


def is_search_index(name: str | None) -> bool:
    """Whether a table or index of the database is one of those."""
    return bool(name) and (name == MEMORY_TSV_INDEX or str(name).startswith(MEMORY_FTS))

"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no timestamp type: SQLAlchemy stores datetimes as ISO text and
reads them back naive. `UtcDateTime` stores UTC on both databases and always
returns timezone-aware UTC, so code above the store never sees a naive
datetime. `Json` is JSONB on PostgreSQL (containment queries) and JSON text
on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Dialect, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

from .rows import as_utc

__all__ = ["AutoId", "Json", "UtcDateTime"]


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        # SQLite's text format has no offset; every stored value is UTC, so
        # text order stays time order.
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")

# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
AutoId: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

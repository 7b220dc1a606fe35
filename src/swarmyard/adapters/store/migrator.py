"""Bring a database's schema to the newest Alembic revision, from code.

`Store.migrate()` calls this on every start, so it must work from an
installed package: the scripts are found next to this module and no
alembic.ini is read. The whole upgrade is one transaction (SQLite and
PostgreSQL both have transactional DDL), so a failed migration leaves the
previous schema in place. Upgrading an up-to-date database changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["MIGRATIONS", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")

# Any fixed number: it names the advisory lock that serialises concurrent
# upgrades from several processes starting at once against PostgreSQL.
_PG_LOCK_KEY = 0x5357_4D59  # "SWMY"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # ConfigParser would read a '%' in the install path as interpolation.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Released at commit. SQLite needs no such lock: BEGIN IMMEDIATE already
        # gave this transaction the database's only write lock.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
    command.upgrade(alembic_config(connection), "head")

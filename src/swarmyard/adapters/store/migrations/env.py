"""Alembic environment for the store's schema.

Migrations run through `Store.migrate()`, which hands over a connection
already inside a transaction (see `migrator.py`); there is no alembic.ini
and no URL to read here. Batch mode lets the same revision alter tables on
SQLite (by copying them) and on PostgreSQL (with ALTER TABLE).
"""

from __future__ import annotations

from alembic import context

from swarmyard.adapters.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the store's migrations run through Store.migrate(), which supplies the connection"
    )

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

"""Alembic revisions of the store schema, run by `Store.migrate()`."""

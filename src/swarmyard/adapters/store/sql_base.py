"""The transaction every SQL repository of one unit of work shares.

Two rules hold for every repository built on it:

* Conflicts never poison the transaction. Inserts use ``ON CONFLICT DO
  NOTHING`` and report whether a row went in, guarded updates report how
  many rows matched; a `Conflict` or `StaleAttempt` therefore leaves the
  unit of work usable, with nothing written by the failed call. (A failed
  statement would abort a PostgreSQL transaction outright.)
* A write into a workspace that does not exist fails its foreign key; that
  is answered `NotFound("workspace", …)` and the unit of work is rolled
  back, because PostgreSQL cannot continue such a transaction. Other
  parents (the user of a membership or a refresh token) are checked before
  writing, so their absence is a plain `NotFound`; the foreign key only
  backs that check up against a concurrent delete.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, CursorResult, Executable, Table, and_, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from swarmyard.domain import NotFound
from swarmyard.ports import Page

__all__ = ["SqlConn", "SqlTx", "newest_first"]

_FK_VIOLATION = "23503"

S = TypeVar("S", bound=Executable)

# Statements built once per dialect and shape (`SqlConn.prepared`). Building
# a statement (coercing every column and value, then computing its cache
# key) cost more CPU than SQLite took to run it; a built statement keeps its
# cache key, so SQLAlchemy finds the compiled form at once. The shapes are
# few (a table and the set of columns written), so this stays small.
_PREPARED: dict[tuple[Any, ...], Any] = {}


class SqlConn:
    """One open transaction, not bound to a workspace (identities live above them).

    `parent` names the row a foreign-key violation means is missing, for
    the statements that do not say otherwise.
    """

    def __init__(self, conn: AsyncConnection, parent: tuple[str, str] | None = None) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.rolled_back_by: BaseException | None = None
        self._parent = parent

    async def execute(
        self,
        statement: Executable,
        params: Sequence[Mapping[str, Any]] | None = None,
        *,
        parent: tuple[str, str] | None = None,
    ) -> CursorResult[Any]:
        """Run one statement; `params`, a list of rows, runs it once per row in
        one batch (SQLAlchemy's insertmanyvalues), with one cached plan; a
        list of one row runs it once (RETURNING and rowcount work)."""
        if self.rolled_back_by is not None:
            raise RuntimeError(
                "this unit of work was rolled back after an error; open a new one"
            ) from self.rolled_back_by
        try:
            if params is None:
                return await self.conn.execute(statement)
            return await self.conn.execute(statement, list(params))
        except IntegrityError as exc:
            missing = parent or self._parent
            if missing is None or not _is_foreign_key_violation(exc):
                raise
            await self.conn.rollback()
            error = NotFound(*missing)
            self.rolled_back_by = error
            raise error from None

    async def insert_new(
        self, table: Table, row: Mapping[str, Any], *, parent: tuple[str, str] | None = None
    ) -> bool:
        """Insert the row unless it collides with a unique key; whether it went in.

        The row is a parameter set, not `.values()`: SQLAlchemy caches the
        compiled statement of the former and compiles the latter every time.
        """
        result = await self.execute(self.insert_ignoring(table), [row], parent=parent)
        return result.rowcount == 1

    def prepared(self, shape: tuple[Any, ...], build: Callable[[], S]) -> S:
        """The statement of `shape` (a name, a table, the columns it writes),
        built by `build` the first time on this dialect; its values come as
        bound parameters at execution."""
        key = (self.dialect, *shape)
        statement = _PREPARED.get(key)
        if statement is None:
            statement = _PREPARED[key] = build()
        return statement

    def insert_ignoring(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        return self.prepared(
            ("insert_ignoring", table), lambda: self._insert(table).on_conflict_do_nothing()
        )

    async def upsert(self, table: Table, row: Mapping[str, Any]) -> None:
        """Insert the row, or update every column it names but the key."""

        def build() -> Executable:
            insert = self._insert(table)
            keys = [c.name for c in table.primary_key.columns]
            changed = {k: insert.excluded[k] for k in row if k not in keys}
            return insert.on_conflict_do_update(index_elements=keys, set_=changed)

        await self.execute(self.prepared(("upsert", table, tuple(row)), build), [row])

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        # Both dialects spell ON CONFLICT the same but need their own Insert class.
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def bytewise(self, text: ColumnElement[str]) -> ColumnElement[str]:
        """`text` compared by code point, as Python (and so the memory store)
        orders strings. SQLite does by default; PostgreSQL follows the
        database's collation unless told otherwise."""
        if self.dialect != "postgresql":
            return text
        # Parenthesised: COLLATE binds tighter than ||.
        return text.self_group().collate("C")

    async def commit(self) -> None:
        if self.rolled_back_by is not None:
            raise RuntimeError(
                "cannot commit: this unit of work was rolled back after an error"
            ) from self.rolled_back_by
        await self.conn.commit()

    async def rollback(self) -> None:
        await self.conn.rollback()

    async def found(self, query: Executable) -> bool:
        return (await self.execute(query)).first() is not None


class SqlTx(SqlConn):
    """One open transaction, bound to one workspace."""

    def __init__(self, conn: AsyncConnection, workspace_id: str) -> None:
        super().__init__(conn, ("workspace", workspace_id))
        self.workspace_id = workspace_id

    def scoped(self, table: Table) -> ColumnElement[bool]:
        return table.c.workspace_id == self.workspace_id

    async def by_key(
        self, table: Table, columns: Sequence[Any], key: str, value: object
    ) -> CursorResult[Any]:
        """`columns` of the rows of this workspace whose `key` is `value`
        (a prepared statement: the lookups every run makes many times)."""
        names = tuple(c.name for c in columns)
        statement = self.prepared(
            ("by_key", table, names, key),
            lambda: select(*columns).where(
                table.c.workspace_id == bindparam("b_workspace"), table.c[key] == bindparam("b_key")
            ),
        )
        return await self.execute(statement, [{"b_workspace": self.workspace_id, "b_key": value}])

    async def exists(self, table: Table, key: str, value: object) -> bool:
        return await self.found(
            select(table.c[key]).where(self.scoped(table), table.c[key] == value)
        )


def _is_foreign_key_violation(exc: IntegrityError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code == _FK_VIOLATION or "FOREIGN KEY constraint failed" in str(exc.orig)


def newest_first(
    table: Table, page: Page, scope: ColumnElement[bool] | None, *, time: str = "created_at"
) -> tuple[list[Any], list[Any]]:
    """(where clauses, order by) for keyset paging newest first on (`time`, id).

    The cursor row is looked up within `scope` (the unit's workspace), so a
    cursor naming a missing or foreign row yields an empty page.
    """
    at, key = table.c[time], table.c.id
    order = [at.desc(), key.desc()]
    if page.after is None:
        return [], order
    cursor_query = select(at).where(key == page.after)
    if scope is not None:
        cursor_query = cursor_query.where(scope)
    cursor = cursor_query.scalar_subquery()
    before = or_(at < cursor, and_(at == cursor, key < page.after))
    return [before], order

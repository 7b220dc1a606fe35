"""The SQL task repository: the board's cards.

Updates are optimistic: ``UPDATE … WHERE version = :seen`` bumps the
version, so a stale copy of a task can never overwrite a newer one.
Priority is stored as its rank, so "ready work, most urgent then oldest"
is one query on the (workspace_id, status, priority, created_at) index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from swarmyard.domain import Conflict, NotFound, Task, TaskStatus
from swarmyard.ports import Page, TaskFilter

from . import rows
from .sql_base import SqlTx, newest_first
from .tables import agents, tasks

__all__ = ["SqlTaskRepo"]

_FIRST_PAGE = Page()
_ALL_TASKS = TaskFilter()

# Never rewritten by update: identity, tenancy, birth, and the creation key
# that makes retried creations idempotent.


class SqlTaskRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, task: Task) -> None:
        row = rows.owned_row(rows.TASKS, task, self._tx.workspace_id)
        if await self._tx.insert_new(tasks, row):
            return
        if task.origin_key is not None and await self.by_origin(task.origin_key) is not None:
            raise Conflict(
                f"a task with origin key {task.origin_key!r} already exists",
                details={"origin_key": task.origin_key},
            )
        raise Conflict(f"task {task.id!r} already exists")

    async def get(self, task_id: str) -> Task:
        row = (await self._tx.by_key(tasks, list(tasks.c), "id", task_id)).mappings().first()
        if row is None:
            raise NotFound("task", task_id)
        return rows.TASKS.decode(row)

    async def get_many(self, task_ids: Sequence[str]) -> list[Task]:
        if not task_ids:
            return []
        by_id = {t.id: t for t in await self._fetch(self._select().where(tasks.c.id.in_(task_ids)))}
        return [by_id[i] for i in dict.fromkeys(task_ids) if i in by_id]

    async def by_origin(self, origin_key: str) -> Task | None:
        found = await self._fetch(self._select().where(tasks.c.origin_key == origin_key))
        return found[0] if found else None

    async def update(self, task: Task) -> None:
        values = rows.updatable(rows.TASKS.encode(task), "origin_key", "version")
        # The SET clause is the row's columns, given as parameters.
        statement = self._tx.prepared(
            ("update_task",),
            lambda: (
                update(tasks)
                .where(
                    tasks.c.workspace_id == bindparam("b_workspace"),
                    tasks.c.id == bindparam("b_id"),
                    tasks.c.version == bindparam("b_version"),
                )
                .values(version=tasks.c.version + 1)
            ),
        )
        where = {"b_workspace": self._tx.workspace_id, "b_id": task.id, "b_version": task.version}
        if (await self._tx.execute(statement, [{**values, **where}])).rowcount:
            task.version += 1
            return
        query = select(tasks.c.version).where(self._tx.scoped(tasks), tasks.c.id == task.id)
        stored = (await self._tx.execute(query)).scalar_one_or_none()
        if stored is None:
            raise NotFound("task", task.id)
        raise Conflict(
            f"task {task.id!r} was changed meanwhile (version {task.version} is stale, "
            f"stored version is {stored}); reload it and try again",
            details={"id": task.id, "version": task.version, "stored_version": stored},
        )

    async def ready(
        self,
        limit: int = 100,
        *,
        roles: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        unexplained: bool = False,
    ) -> list[Task]:
        query = self._select().where(
            tasks.c.status == TaskStatus.TODO.value, tasks.c.assignee_agent_id.is_(None)
        )
        if unexplained:
            query = query.where(tasks.c.waiting_reason.is_(None))
        if roles is not None:
            query = query.where(
                or_(
                    tasks.c.required_role.in_(list(roles)),
                    and_(
                        tasks.c.required_role.is_(None),
                        or_(tasks.c.type.in_(list(types or ())), self._has_capabilities()),
                    ),
                )
            )
        query = query.order_by(tasks.c.priority.desc(), tasks.c.created_at, tasks.c.id)
        return await self._fetch(query.limit(limit))

    async def dependants(self, task_id: str) -> list[Task]:
        query = self._select().where(self._depends_on(task_id))
        return await self._fetch(query.order_by(tasks.c.created_at, tasks.c.id))

    async def counts_by_status(self) -> dict[TaskStatus, int]:
        query = (
            select(tasks.c.status, func.count().label("n"))
            .where(self._tx.scoped(tasks))
            .group_by(tasks.c.status)
        )
        counts = dict.fromkeys(TaskStatus, 0)
        for row in (await self._tx.execute(query)).mappings():
            counts[TaskStatus(row["status"])] = row["n"]
        return counts

    def _select(self) -> Select[Any]:
        return select(tasks).where(self._tx.scoped(tasks))

    async def _fetch(self, query: Select[Any]) -> list[Task]:
        return [rows.TASKS.decode(r) for r in (await self._tx.execute(query)).mappings()]

    def _has_capabilities(self) -> ColumnElement[bool]:
        length = (
            func.jsonb_array_length(tasks.c.required_capabilities)
            if self._tx.dialect == "postgresql"
            else func.json_array_length(tasks.c.required_capabilities)
        )
        return length > 0

    def _depends_on(self, task_id: str) -> ColumnElement[bool]:
        if self._tx.dialect == "postgresql":
            return type_coerce(tasks.c.depends_on, JSONB).contains([task_id])
        each = func.json_each(tasks.c.depends_on).table_valued("value")
        return exists(select(literal(1)).select_from(each).where(each.c.value == task_id))

    def _conditions(self, flt: TaskFilter) -> list[ColumnElement[bool]]:
        c = tasks.c
        conditions: list[ColumnElement[bool]] = []
        equal = {
            c.project_id: flt.project_id,
            c.type: flt.type,
            c.parent_id: flt.parent_id,
            c.assignee_agent_id: flt.assignee_agent_id,
        }
        conditions += [column == value for column, value in equal.items() if value is not None]
        if flt.statuses:
            conditions.append(c.status.in_([TaskStatus(s).value for s in flt.statuses]))
        if flt.role is not None:
            agents_of_role = select(agents.c.id).where(
                self._tx.scoped(agents), agents.c.role == flt.role
            )
            conditions.append(
                or_(c.required_role == flt.role, c.assignee_agent_id.in_(agents_of_role))
            )
        if flt.text:
            conditions.append(
                or_(
                    c.title.icontains(flt.text, autoescape=True),
                    c.description.icontains(flt.text, autoescape=True),
                )
            )
        return conditions

    async def list(self, flt: TaskFilter = _ALL_TASKS, page: Page = _FIRST_PAGE) -> list[Task]:
        where, order = newest_first(tasks, page, self._tx.scoped(tasks))
        query = self._select().where(*where, *self._conditions(flt)).order_by(*order)
        return await self._fetch(query.limit(page.limit))

"""The state and transaction machinery of the in-memory store.

Tables hold rows exactly as the SQL adapter would store them (the same
codecs, JSON serialised to text, timestamps in UTC), so the memory store
refuses and returns what a database would. Rows are never changed in
place: a write puts a new row dict and records the old one in an undo
journal, which is how a unit of work rolls back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from swarmyard.domain import NotFound
from swarmyard.ports import Page

from .indexed_table import IndexedTable, by_column, by_json_list, sorted_by
from .rows import Codec, Row, owned_row

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["MemoryJournal", "MemoryState", "MemoryTx", "freeze", "newest_first", "thaw", "thaw_all"]

E = TypeVar("E", bound="DataclassInstance")
K = TypeVar("K")
_MISSING: Any = object()


@dataclass(slots=True)
class MemoryState:
    workspaces: dict[str, Row] = field(default_factory=dict)
    projects: dict[str, Row] = field(default_factory=dict)
    manifests: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    agents: dict[str, Row] = field(default_factory=dict)
    # Indexed by what the hot reads filter on (ready work, a task's
    # dependants, an agent's active runs, a task's runs): indexed_table.py.
    tasks: IndexedTable[str] = field(
        default_factory=lambda: IndexedTable(
            status=by_column("status"),
            origin_key=by_column("origin_key"),
            depends_on=by_json_list("depends_on"),
        )
    )
    runs: IndexedTable[str] = field(
        default_factory=lambda: IndexedTable(
            status=by_column("status"), agent_id=by_column("agent_id"), task_id=by_column("task_id")
        )
    )
    events: dict[str, dict[int, Row]] = field(default_factory=dict)  # by run, then seq
    executions: IndexedTable[int] = field(
        default_factory=lambda: IndexedTable(
            agent_newest=sorted_by("agent_id", lambda r: (r["finished_at"], r["id"]))
        )
    )
    profiles: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    schedules: dict[str, Row] = field(default_factory=dict)
    approvals: dict[str, Row] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], Row] = field(default_factory=dict)
    outbox: dict[str, Row] = field(default_factory=dict)
    members: dict[tuple[str, str], Row] = field(default_factory=dict)  # (workspace, user)
    api_keys: dict[str, Row] = field(default_factory=dict)
    audit: dict[str, Row] = field(default_factory=dict)
    settings: dict[str, Row] = field(default_factory=dict)  # by workspace
    users: dict[str, Row] = field(default_factory=dict)
    refresh_tokens: dict[str, Row] = field(default_factory=dict)
    # Model spending; tuple keys mirror the SQL primary keys.
    budgets: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    counters: dict[tuple[str, str, str, str, datetime], Row] = field(default_factory=dict)
    reservations: dict[str, Row] = field(default_factory=dict)
    ledger: dict[str, Row] = field(default_factory=dict)
    prices: dict[tuple[str, str], Row] = field(default_factory=dict)
    providers: dict[tuple[str, str], Row] = field(default_factory=dict)
    documents: dict[tuple[str, str], Row] = field(default_factory=dict)  # (workspace, name)
    memory_items: dict[str, Row] = field(default_factory=dict)
    memory_vectors: dict[str, Row] = field(default_factory=dict)  # by item id
    mcp_servers: dict[tuple[str, str], Row] = field(default_factory=dict)  # (workspace, name)
    # (workspace, id, version) and (workspace, pack id), as the SQL keys.
    skill_packs: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    skill_installations: dict[tuple[str, str], Row] = field(default_factory=dict)
    # Like a database sequence: not given back by a rollback.
    next_execution_id: int = 1


class MemoryJournal:
    """One transaction's journalled writes, bound to no workspace: the
    identity unit of work uses it as is, `MemoryTx` adds the scoping."""

    def __init__(self, state: MemoryState) -> None:
        self.state = state
        self.rolled_back_by: BaseException | None = None
        self._undo: list[tuple[dict[Any, Row], Any, Row]] = []

    def check(self) -> None:
        if self.rolled_back_by is not None:
            raise RuntimeError(
                "this unit of work was rolled back after an error; open a new one"
            ) from self.rolled_back_by

    def write(self, table: dict[K, Row], key: K, row: Row) -> None:
        """Put a row; the caller has checked its foreign keys."""
        self.check()
        self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = row

    def remove(self, table: dict[K, Row], key: K) -> None:
        self.check()
        self._undo.append((table, key, table[key]))
        del table[key]

    def committed(self, table: dict[K, Row]) -> dict[K, Row]:
        """`table` as other connections would see it: without this unit's writes."""
        view = dict(table)
        for written, key, old in reversed(self._undo):
            if written is table:
                if old is _MISSING:
                    view.pop(key, None)
                else:
                    view[key] = old
        return view

    def commit(self) -> None:
        self.check()
        self._undo.clear()

    def rollback(self) -> None:
        for table, key, old in reversed(self._undo):
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old
        self._undo.clear()


class MemoryTx(MemoryJournal):
    """One unit of work's view of the state: scoped reads, journalled writes."""

    def __init__(self, state: MemoryState, workspace_id: str) -> None:
        super().__init__(state)
        self.workspace_id = workspace_id

    def mine(self, row: Row | None) -> Row | None:
        """The row if it exists in this workspace; another tenant's row is None."""
        self.check()
        return row if row is not None and row["workspace_id"] == self.workspace_id else None

    def scan(self, table: dict[Any, Row], *where: Callable[[Row], bool]) -> list[Row]:
        self.check()
        return self._where(table.values(), where)

    def scan_index(
        self,
        table: IndexedTable[Any],
        index: str,
        values: Iterable[Any],
        *where: Callable[[Row], bool],
    ) -> list[Row]:
        """`scan` over the rows holding one of `values` under `index` only."""
        self.check()
        return self._where(table.rows_where(index, *values), where)

    def _where(
        self, candidates: Iterable[Row], where: Iterable[Callable[[Row], bool]]
    ) -> list[Row]:
        # One comprehension per condition: a third of the cost of all() over a
        # generator per row, and the workspace test first narrows the rest.
        workspace = self.workspace_id
        found = [r for r in candidates if r["workspace_id"] == workspace]
        for condition in where:
            found = [r for r in found if condition(r)]
        return found

    def put(self, table: dict[K, Row], key: K, row: Row) -> None:
        """Write a row of this workspace (the foreign key onto workspaces holds)."""
        self.check()
        if self.workspace_id not in self.state.workspaces:
            self.rollback()
            error = NotFound("workspace", self.workspace_id)
            self.rolled_back_by = error
            raise error
        self.write(table, key, row)

    def change(self, table: dict[K, Row], key: K, **values: Any) -> None:
        self.put(table, key, {**table[key], **values})

    def freeze(self, codec: Codec[Any], obj: Any) -> Row:
        return freeze(codec, owned_row(codec, obj, self.workspace_id))

    def newest_first(
        self, table: dict[str, Row], found: list[Row], page: Page, *, time: str = "created_at"
    ) -> list[Row]:
        """Keyset paging like the SQL adapter's: the cursor is any row of this
        workspace, matching the filter or not."""
        return newest_first(found, page, lambda key: self.mine(table.get(key)), time=time)


def newest_first(
    found: list[Row],
    page: Page,
    cursor_row: Callable[[str], Row | None],
    *,
    time: str = "created_at",
) -> list[Row]:
    """Keyset paging on (`time`, id), newest first; an unknown cursor gives an empty page."""
    ordered = sorted(found, key=lambda r: (r[time], r["id"]), reverse=True)
    if page.after is not None:
        cursor = cursor_row(page.after)
        if cursor is None:
            return []
        mark = (cursor[time], cursor["id"])
        ordered = [r for r in ordered if (r[time], r["id"]) < mark]
    return ordered[: max(page.limit, 0)]


def freeze(codec: Codec[Any], row: Row) -> Row:
    """Store what a database would: JSON as text (the codec already made times UTC)."""
    for name in codec.json:
        row[name] = json.dumps(row[name])
    return row


def thaw(codec: Codec[E], row: Row) -> E:
    values = dict(row)
    for name in codec.json:
        values[name] = json.loads(values[name])
    return codec.decode(values)


def thaw_all(codec: Codec[E], found: Iterable[Row]) -> list[E]:
    return [thaw(codec, r) for r in found]

"""The in-memory store's secondary indexes stay in step with the table
through every kind of write, the journal's rollback included."""

from __future__ import annotations

import json
from typing import Any

from swarmyard.adapters.store.indexed_table import (
    IndexedTable,
    by_column,
    by_json_list,
    sorted_by,
)
from swarmyard.adapters.store.memory_base import MemoryJournal, MemoryState


def table() -> IndexedTable[str]:
    return IndexedTable(
        status=by_column("status"),
        depends=by_json_list("depends_on"),
        by_owner=sorted_by("owner", lambda r: (r["at"], r["id"])),
    )


def row(key: str, status: str, *, depends: tuple[str, ...] = (), owner: str = "a", at: int = 0):
    return {
        "id": key,
        "status": status,
        "depends_on": json.dumps(depends),
        "owner": owner,
        "at": at,
    }


def keys(rows: Any) -> list[str]:
    return [r["id"] for r in rows]


def test_an_index_follows_sets_replacements_and_deletes() -> None:
    t = table()
    t["t1"] = row("t1", "todo", depends=("x",))
    t["t2"] = row("t2", "todo", depends=("x", "y"))
    t["t3"] = row("t3", "done")
    assert keys(t.rows_where("status", "todo")) == ["t1", "t2"]
    assert keys(t.rows_where("depends", "x")) == ["t1", "t2"]

    t["t1"] = row("t1", "done")  # a replaced row leaves its old values
    assert keys(t.rows_where("status", "todo")) == ["t2"]
    assert keys(t.rows_where("status", "done")) == ["t3", "t1"]
    assert keys(t.rows_where("depends", "x")) == ["t2"]

    del t["t2"]
    assert keys(t.rows_where("status", "todo")) == []
    assert keys(t.rows_where("depends", "y")) == []
    assert t.pop("t3")["id"] == "t3"
    assert t.pop("missing", None) is None
    assert keys(t.rows_where("status", "done")) == ["t1"]


def test_several_values_give_each_row_once() -> None:
    t = table()
    t["t1"] = row("t1", "todo")
    t["t2"] = row("t2", "running")
    t["t3"] = row("t3", "done")
    assert sorted(keys(t.rows_where("status", "todo", "running", "todo"))) == ["t1", "t2"]


def test_an_ordered_index_reads_newest_first_whatever_the_insert_order() -> None:
    t = table()
    for key, at in (("e1", 5), ("e2", 1), ("e3", 9), ("e4", 5)):
        t[key] = row(key, "x", at=at)
    t["other"] = row("other", "x", owner="b", at=7)
    assert keys(t.rows_descending("by_owner", "a")) == ["e3", "e4", "e1", "e2"]
    t["e3"] = row("e3", "x", at=0)  # moved to the oldest place
    del t["e4"]
    assert keys(t.rows_descending("by_owner", "a")) == ["e1", "e2", "e3"]
    assert keys(t.rows_descending("by_owner", "nobody")) == []


def test_a_rolled_back_unit_of_work_leaves_the_indexes_as_they_were() -> None:
    state = MemoryState()
    tasks = state.tasks
    first = MemoryJournal(state)
    first.write(tasks, "t1", {**row("t1", "todo"), "origin_key": None})
    first.commit()

    journal = MemoryJournal(state)
    journal.write(tasks, "t1", {**row("t1", "in_progress"), "origin_key": None})
    journal.write(tasks, "t2", {**row("t2", "todo", depends=("t1",)), "origin_key": "k"})
    assert keys(tasks.rows_where("status", "todo")) == ["t2"]
    journal.rollback()

    assert keys(tasks.rows_where("status", "todo")) == ["t1"]
    assert keys(tasks.rows_where("status", "in_progress")) == []
    assert keys(tasks.rows_where("depends_on", "t1")) == []
    assert keys(tasks.rows_where("origin_key", "k")) == []

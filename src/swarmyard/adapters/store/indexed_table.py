"""Secondary indexes of the in-memory store's tables.

Without them every filtered read walks the whole table, so a long-lived
process (a benchmark, a dev server) slows down with every task it has
done: picking ready work, counting an agent's active runs and finding a
finished task's dependants were each linear in all rows ever written. An
`IndexedTable` is a dict that also keeps, for each index, the keys of the
rows holding each value — maintained on every set and delete, so the
journal's writes and its rollback (item assignment, `del`, `pop`: the only
writes the store makes) keep it right without knowing it is there. What it
answers is a superset filter only: callers still apply their full
conditions to the rows it hands back.

A sorted index also keeps each value's keys in order (like a database's
composite index on (column, time)), so "the newest N of this agent" reads
N rows, not the agent's whole history.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from .rows import Row

__all__ = ["IndexedTable", "by_column", "by_json_list", "sorted_by"]

K = TypeVar("K")


class _Index(Generic[K]):
    """Value → the keys of the rows holding it, in the order they were set."""

    def __init__(self, values: Callable[[Row], Iterable[Any]]) -> None:
        self._values = values
        self.keys: dict[Any, dict[K, None]] = {}

    def add(self, key: K, row: Row) -> None:
        for value in self._values(row):
            self.keys.setdefault(value, {})[key] = None

    def remove(self, key: K, row: Row) -> None:
        for value in self._values(row):
            keys = self.keys.get(value)
            if keys is not None:
                keys.pop(key, None)
                if not keys:
                    del self.keys[value]


class _SortedIndex(Generic[K]):
    """Value of one column → [(sort key, key)], ascending."""

    def __init__(self, column: str, sort_key: Callable[[Row], Any]) -> None:
        self._column = column
        self._sort_key = sort_key
        self.entries: dict[Any, list[tuple[Any, K]]] = {}

    def add(self, key: K, row: Row) -> None:
        bisect.insort(self.entries.setdefault(row[self._column], []), (self._sort_key(row), key))

    def remove(self, key: K, row: Row) -> None:
        value = row[self._column]
        entries = self.entries.get(value)
        if entries is None:
            return
        at = bisect.bisect_left(entries, (self._sort_key(row), key))
        if at < len(entries) and entries[at][1] == key:
            del entries[at]
        if not entries:
            del self.entries[value]


def by_column(name: str) -> _Index[Any]:
    return _Index(lambda row: (row[name],))


def by_json_list(name: str) -> _Index[Any]:
    """Each element of a JSON-array column (e.g. a task's `depends_on`)."""
    return _Index(lambda row: json.loads(row[name]))


def sorted_by(column: str, sort_key: Callable[[Row], Any]) -> _SortedIndex[Any]:
    """`column`'s values, each with its rows in `sort_key` order (unique with the key)."""
    return _SortedIndex(column, sort_key)


class IndexedTable(dict[K, Row]):
    """A table (key → row) with named indexes of its row keys."""

    def __init__(self, **indexes: _Index[K] | _SortedIndex[K]) -> None:
        super().__init__()
        self._indexes = indexes

    def __setitem__(self, key: K, row: Row) -> None:
        old = self.get(key)
        if old is not None:
            self._unindex(key, old)
        super().__setitem__(key, row)
        for index in self._indexes.values():
            index.add(key, row)

    def __delitem__(self, key: K) -> None:
        self._unindex(key, self[key])
        super().__delitem__(key)

    def pop(self, key: K, *default: Any) -> Any:
        if key in self:
            row = self[key]
            del self[key]
            return row
        return super().pop(key, *default)

    def rows_where(self, index: str, *values: Any) -> Iterator[Row]:
        """The rows holding any of `values` under `index` (each row once)."""
        keys = self._key_index(index).keys
        if len(values) == 1:
            found: Iterable[K] = tuple(keys.get(values[0], ()))
        else:
            found = dict.fromkeys(k for v in values for k in keys.get(v, ()))
        for key in found:
            yield self[key]

    def rows_descending(self, index: str, value: Any) -> Iterator[Row]:
        """The rows holding `value` under a sorted index, highest sort key first."""
        found = self._indexes[index]
        assert isinstance(found, _SortedIndex)
        # Walked in place, not copied: a caller reading the newest few of a
        # long history pays for the few (it writes nothing while it reads).
        entries = found.entries.get(value, [])
        for at in range(len(entries) - 1, -1, -1):
            yield self[entries[at][1]]

    def _key_index(self, name: str) -> _Index[K]:
        found = self._indexes[name]
        assert isinstance(found, _Index)
        return found

    def _unindex(self, key: K, row: Row) -> None:
        for index in self._indexes.values():
            index.remove(key, row)

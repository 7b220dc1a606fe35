"""Secondary indexes of the in-memory store's tables.

Without them every filtered read walks the whole table, so a long-lived
process (a benchmark, a dev server) slows down with every task it has
done: picking ready work, counting an agent's active runs and finding a
finished task's dependants were each linear in all rows ever written. An
`IndexedTable` is a dict that also keeps, for each indexed column, the
keys of the rows holding each value — maintained on every set and delete,
so the journal's writes and its rollback keep it right without knowing it
is there. What it answers is a superset filter only: callers still apply
their full conditions to the rows it hands back.

An ordered index also keeps each value's keys sorted (like a database's
composite index on (column, time)), so "the newest N of this agent" reads
N rows, not the agent's whole history.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .rows import Row

__all__ = ["IndexedTable", "by_column", "by_json_list"]

K = TypeVar("K")
# The values of a row under one index: one for a column, any number for a list.
Values = Callable[[Row], Iterable[Any]]
# Where a row sorts inside an ordered index's value (unique with the key).
SortKey = Callable[[Row], Any]


def by_column(name: str) -> Values:
    return lambda row: (row[name],)


def by_json_list(name: str) -> Values:
    """Each element of a JSON-array column (e.g. a task's `depends_on`)."""
    return lambda row: json.loads(row[name])


class IndexedTable(dict[K, Row]):
    """A table (key → row) with an index of row keys per indexed value."""

    def __init__(
        self, *, ordered: dict[str, tuple[str, SortKey]] | None = None, **indexes: Values
    ) -> None:
        """`indexes`: name → the row's values under it; `ordered`: name →
        (column, sort key), each value's rows kept in sort-key order."""
        super().__init__()
        self._values = indexes
        # index name → value → keys (a dict: ordered like the table's inserts).
        self._keys: dict[str, dict[Any, dict[K, None]]] = {name: {} for name in indexes}
        self._order = dict(ordered or {})
        # ordered index name → value → [(sort key, key)], ascending.
        self._sorted: dict[str, dict[Any, list[tuple[Any, K]]]] = {n: {} for n in self._order}

    def __setitem__(self, key: K, row: Row) -> None:
        old = self.get(key)
        if old is not None:
            self._unindex(key, old)
        super().__setitem__(key, row)
        for name, values in self._values.items():
            index = self._keys[name]
            for value in values(row):
                index.setdefault(value, {})[key] = None
        for name, (column, sort_key) in self._order.items():
            bisect.insort(self._sorted[name].setdefault(row[column], []), (sort_key(row), key))

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
        keys = self._keys[index]
        if len(values) == 1:
            found: Iterable[K] = tuple(keys.get(values[0], ()))
        else:
            found = dict.fromkeys(k for v in values for k in keys.get(v, ()))
        for key in found:
            yield self[key]

    def rows_descending(self, index: str, value: Any) -> Iterator[Row]:
        """The rows holding `value` under an ordered index, highest sort key first."""
        # Walked in place, not copied: a caller reading the newest few of a
        # long history pays for the few (it writes nothing while it reads).
        entries = self._sorted[index].get(value, [])
        for at in range(len(entries) - 1, -1, -1):
            yield self[entries[at][1]]

    def _unindex(self, key: K, row: Row) -> None:
        for name, values in self._values.items():
            index = self._keys[name]
            for value in values(row):
                keys = index.get(value)
                if keys is not None:
                    keys.pop(key, None)
                    if not keys:
                        del index[value]
        for name, (column, sort_key) in self._order.items():
            entries = self._sorted[name].get(row[column])
            if entries is None:
                continue
            at = bisect.bisect_left(entries, (sort_key(row), key))
            if at < len(entries) and entries[at][1] == key:
                del entries[at]
            if not entries:
                del self._sorted[name][row[column]]

    # Plain-dict operations that would bypass the index are not offered.
    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, row in dict(*args, **kwargs).items():
            self[key] = row

    def setdefault(self, key: K, default: Any = None) -> Row:
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        super().clear()
        for index in self._keys.values():
            index.clear()
        for ordered in self._sorted.values():
            ordered.clear()

    def popitem(self) -> tuple[K, Row]:
        key = next(reversed(self))
        return key, self.pop(key)

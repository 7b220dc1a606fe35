"""Recording a finished run: both profiles it touches are computed from the
right history, whether one read of all types covers the task type or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import ALL_TYPES, Execution, Workspace, compute_profile
from swarmyard.services.learning import HISTORY_RUNS, record_execution

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)


@pytest.fixture
async def store() -> MemoryStore:
    store = MemoryStore()
    await store.migrate()
    await store.add_workspace(Workspace("w", "W", T0))
    return store


def run(n: int, task_type: str, success: bool = True) -> Execution:
    return Execution("a1", task_type, T0 + timedelta(minutes=n), success, 1.0 + n, 10 * n)


async def record_all(store: MemoryStore, history: list[Execution]) -> dict[str, object]:
    for execution in history:
        async with store.unit_of_work("w") as uow:
            await record_execution(uow, execution)
            await uow.commit()
    async with store.unit_of_work("w") as uow:
        return {p.task_type: p for p in await uow.learning.profiles(["a1"])}


def expected(task_type: str, history: list[Execution]) -> object:
    newest = sorted(history, key=lambda e: e.finished_at, reverse=True)[:HISTORY_RUNS]
    return compute_profile("w", "a1", task_type, newest, history[-1].finished_at)


async def test_a_short_history_gives_each_profile_its_own_runs(store: MemoryStore) -> None:
    history = [run(i, "bugfix" if i % 3 else "docs", success=i % 4 != 0) for i in range(30)]
    profiles = await record_all(store, history)
    assert profiles["bugfix"] == expected("bugfix", [e for e in history if e.task_type == "bugfix"])
    assert profiles[ALL_TYPES] == expected(ALL_TYPES, history)


async def test_older_runs_of_the_type_count_beyond_the_newest_of_all_types(
    store: MemoryStore,
) -> None:
    # Ten docs runs, then more bugfix runs than one read of all types holds:
    # the docs profile must still see its ten.
    docs = [run(i, "docs", success=i % 2 == 0) for i in range(10)]
    bugfix = [run(10 + i, "bugfix") for i in range(HISTORY_RUNS)]
    late_docs = run(10 + HISTORY_RUNS, "docs", success=False)
    profiles = await record_all(store, [*docs, *bugfix, late_docs])
    assert profiles["docs"] == expected("docs", [*docs, late_docs])
    assert profiles["docs"].executions == 11
    assert profiles[ALL_TYPES] == expected(ALL_TYPES, [*docs, *bugfix, late_docs])
    assert profiles[ALL_TYPES].executions == HISTORY_RUNS

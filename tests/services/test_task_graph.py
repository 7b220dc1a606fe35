"""A task's execution history as a graph: task → runs → agents → artifacts and
decisions, subtasks recursively, nothing of another workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import (
    Agent,
    Approval,
    ApprovalStatus,
    FakeClock,
    MemoryItem,
    MemoryKind,
    NotFound,
    Run,
    RunStatus,
    SequentialIds,
    Task,
    Workspace,
)
from swarmyard.services.deps import Deps
from swarmyard.services.task_graph import TaskGraphService

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WS = "ws"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def history(store: MemoryStore) -> None:
    """A feature task with two attempts (the second by another agent) and a
    review subtask, which in turn has a test subtask."""
    await store.add_workspace(Workspace(WS, "W", T0))
    await store.add_workspace(Workspace("other", "O", T0))
    async with store.unit_of_work(WS) as uow:
        for agent_id, role in (("ag-dev", "developer"), ("ag-rev", "code-reviewer")):
            await uow.agents.add(Agent(agent_id, WS, f"{role}-1", role, "1.0.0", role, 1, T0))
        await uow.tasks.add(Task("t1", WS, "Export the ledger", "feature", at(0)))
        await uow.tasks.add(Task("t2", WS, "Review the export", "review", at(5), parent_id="t1"))
        await uow.tasks.add(Task("t3", WS, "Test the export", "test", at(6), parent_id="t2"))
        runs = [
            Run("r1", WS, "t1", "ag-dev", "developer", at(1), status=RunStatus.FAILED),
            Run("r2", WS, "t1", "ag-gone", "developer", at(3), status=RunStatus.SUCCEEDED),
            Run("r3", WS, "t2", "ag-rev", "code-reviewer", at(6), status=RunStatus.RUNNING),
        ]
        runs[1].output = "Exported the ledger as CSV, nightly."
        for run in runs:
            await uow.runs.add(run)
        decided = Approval("ap1", WS, "r2", "t1", "c1", "git.commit", "rule", "why", at(4), at(60))
        decided.decide(ApprovalStatus.APPROVED, by="user:ann", at=at(4))
        await uow.approvals.add(decided)
        pending = Approval("ap2", WS, "r3", "t2", "c2", "git.push", "rule", "why", at(7), at(60))
        await uow.approvals.add(pending)
        for item_id, kind, run_id in (
            ("m1", MemoryKind.DECISION, "r2"),
            ("m2", MemoryKind.FACT, "r2"),
            ("m3", MemoryKind.NOTE, None),  # written by a person: no run
        ):
            await uow.memory.add(
                MemoryItem(item_id, WS, kind, f"{kind.value} text", at(4), run_id=run_id)
            )
        await uow.commit()


@pytest.fixture
async def graphs() -> TaskGraphService:
    store = MemoryStore()
    await history(store)
    return TaskGraphService(Deps(store, MemoryBus(), FakeClock(at(30)), SequentialIds()))


async def test_the_whole_history_as_nodes_and_edges(graphs: TaskGraphService) -> None:
    graph = (await graphs.graph(WS, "t1")).as_dict()
    kinds = {n["id"]: n["kind"] for n in graph["nodes"]}
    assert kinds == {
        "t1": "task",
        "t2": "task",
        "t3": "task",
        "r1": "run",
        "r2": "run",
        "r3": "run",
        "ag-dev": "agent",
        "ag-gone": "agent",
        "ag-rev": "agent",
        "output:r2": "artifact",
        "ap1": "decision",
        "m1": "decision",
        "m2": "artifact",
    }
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert edges == {
        ("t1", "t2", "subtask"),
        ("t2", "t3", "subtask"),
        ("t1", "r1", "run"),
        ("t1", "r2", "run"),
        ("t2", "r3", "run"),
        ("r1", "ag-dev", "by"),
        ("r2", "ag-gone", "by"),
        ("r3", "ag-rev", "by"),
        ("r2", "output:r2", "produced"),
        ("r2", "ap1", "decided"),
        ("r2", "m1", "decided"),
        ("r2", "m2", "produced"),
    }
    labels = {n["id"]: n["label"] for n in graph["nodes"]}
    assert labels["t1"] == "Export the ledger"
    assert labels["ag-dev"] == "developer-1"
    assert labels["ag-gone"] == "developer"  # uninstalled since: its role names it
    assert labels["output:r2"] == "Exported the ledger as CSV, nightly."
    assert labels["ap1"] == "git.commit approved by user:ann"
    assert graph["truncated"] is False
    # Every edge joins two nodes of the graph.
    assert {e["from"] for e in graph["edges"]} | {e["to"] for e in graph["edges"]} <= set(kinds)


async def test_a_subtask_s_graph_starts_at_it(graphs: TaskGraphService) -> None:
    graph = (await graphs.graph(WS, "t2")).as_dict()
    assert {n["id"] for n in graph["nodes"]} == {"t2", "t3", "r3", "ag-rev"}


async def test_another_workspace_s_task_is_not_found(graphs: TaskGraphService) -> None:
    with pytest.raises(NotFound):
        await graphs.graph("other", "t1")
    with pytest.raises(NotFound):
        await graphs.graph(WS, "nope")

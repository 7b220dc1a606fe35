"""The tool-call journal keeps what a call spent for its run with its answer,
so a run resumed in the middle of a step adds that cost once (the step
that would have added it was never stored)."""

from __future__ import annotations

from datetime import UTC, datetime

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore
from swarmyard.domain import FakeClock, Run, SequentialIds, Workspace
from swarmyard.ports import ToolCost
from swarmyard.services.catalog import CatalogService
from swarmyard.services.deps import Deps
from swarmyard.services.lifecycle import Lifecycle

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)


async def test_a_journaled_answer_keeps_its_cost() -> None:
    store = MemoryStore()
    await store.migrate()
    await store.add_workspace(Workspace("ws", "Journal", T0))
    deps = Deps(store=store, bus=MemoryBus(), clock=FakeClock(T0), ids=SequentialIds())
    life = Lifecycle(deps, CatalogService(deps), lease_seconds=30)
    run = Run(id="run_1", workspace_id="ws", task_id="t", agent_id="a", role="dev", created_at=T0)
    spent = [ToolCost(1_000, 10, 2), ToolCost(500, 5, 1)]
    await life.keep_tool_result(run, "c1", "agent.request_decision", True, "{}", spent=spent)
    assert await life.tool_result(run, "c1") == (True, "{}", ToolCost(1_500, 15, 3))
    await life.keep_tool_result(run, "c2", "git.commit", True, "committed")
    assert await life.tool_result(run, "c2") == (True, "committed", None)
    assert await life.tool_result(run, "c3") is None

"""The memory tools on the in-memory store: an agent saves into its own
memory, shares with everyone, finds both but never another agent's own
items, with provenance taken from the tool context and bad arguments
answered with a `ToolError` that stores nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.embeddings import HashingEmbedder
from swarmyard.adapters.store import MemoryStore
from swarmyard.adapters.tools import builtin_tools
from swarmyard.adapters.tools.memory_tools import SHARED_TTL_DAYS, search_result
from swarmyard.domain import FakeClock, MemoryItem, MemoryKind, Run, SequentialIds, Workspace
from swarmyard.ports import MemoryQuery, Tool, ToolContext, ToolError
from swarmyard.services.deps import Deps
from swarmyard.services.memory_index import MemoryIndex

T0 = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
WS = "ws"
DEV = ToolContext(WS, "run-dev", "task-1", "developer")
OPS = ToolContext(WS, "run-ops", "task-2", "devops")


@pytest.fixture
async def store() -> MemoryStore:
    store = MemoryStore()
    await store.add_workspace(Workspace(WS, "W", T0))
    async with store.unit_of_work(WS) as uow:
        await uow.runs.add(Run("run-dev", WS, "task-1", "agent-dev", "developer", T0))
        await uow.runs.add(Run("run-ops", WS, "task-2", "agent-ops", "devops", T0))
        await uow.commit()
    return store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def tools(store: MemoryStore, clock: FakeClock) -> dict[str, Tool]:
    deps = Deps(store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds())
    return builtin_tools(store, memory=MemoryIndex(deps), clock=clock, ids=deps.ids)


async def everything(store: MemoryStore) -> list[MemoryItem]:
    async with store.unit_of_work(WS) as uow:
        return await uow.memory.search(MemoryQuery(limit=100), now=T0)


async def test_the_tools_and_their_effects(tools: dict[str, Tool]) -> None:
    assert tools["memory.search"].spec.effects == {"reads_private"}
    assert tools["memory.save"].spec.effects == {"side_effect"}
    assert tools["context.share"].spec.effects == {"side_effect"}
    assert {"read_task", "list_tasks"} <= set(tools)


async def test_save_keeps_provenance_from_the_context(
    tools: dict[str, Tool], store: MemoryStore
) -> None:
    answer = json.loads(
        await tools["memory.save"].call(
            {"text": "The ledger export uses CSV", "kind": "decision", "tags": ["ledger"]}, DEV
        )
    )
    assert answer["shared"] is False
    assert answer["expires_at"] is None
    (item,) = await everything(store)
    assert (item.id, item.kind, item.tags) == (answer["saved"], MemoryKind.DECISION, ["ledger"])
    assert (item.agent_id, item.run_id, item.task_id) == ("agent-dev", "run-dev", "task-1")
    assert item.source == "role:developer"


async def test_an_agent_finds_its_own_and_shared_items_only(
    tools: dict[str, Tool], clock: FakeClock
) -> None:
    await tools["memory.save"].call({"text": "dev notes: ledger rows are signed"}, DEV)
    await tools["memory.save"].call({"text": "ops notes: ledger backups run at 2"}, OPS)
    clock.advance(60)
    shared = json.loads(
        await tools["context.share"].call({"text": "Decided: the ledger stays in UTC"}, OPS)
    )
    assert shared["shared"] is True
    assert shared["expires_at"] == (clock.now() + timedelta(days=SHARED_TTL_DAYS)).isoformat()

    found = json.loads(await tools["memory.search"].call({"query": "ledger"}, DEV))["items"]
    assert [i["text"] for i in found] == [
        "Decided: the ledger stays in UTC",
        "dev notes: ledger rows are signed",
    ]
    assert [i["shared"] for i in found] == [True, False]
    assert found[0]["kind"] == "knowledge"
    ops = json.loads(await tools["memory.search"].call({"query": "backups", "limit": 1}, OPS))
    assert [i["text"] for i in ops["items"]] == ["ops notes: ledger backups run at 2"]
    nothing = json.loads(await tools["memory.search"].call({"query": "backups"}, DEV))
    assert nothing == {"items": []}


async def test_shared_context_expires(tools: dict[str, Tool], clock: FakeClock) -> None:
    await tools["context.share"].call(
        {"text": "freeze: no deploys this week", "kind": "decision", "ttl_days": 7}, OPS
    )
    assert json.loads(await tools["memory.search"].call({"query": "deploys"}, DEV))["items"]
    clock.advance(timedelta(days=7))
    assert json.loads(await tools["memory.search"].call({"query": "deploys"}, DEV)) == {"items": []}


async def test_with_embeddings_the_tools_save_vectors_and_search_by_them(
    store: MemoryStore, clock: FakeClock
) -> None:
    deps = Deps(
        store=store, bus=MemoryBus(), clock=clock, ids=SequentialIds(), embedder=HashingEmbedder()
    )
    tools = builtin_tools(store, memory=MemoryIndex(deps), clock=clock, ids=deps.ids)
    await tools["context.share"].call({"text": "Deployment needs two approvals"}, OPS)
    # No word in common: found by the vector the share stored.
    found = json.loads(await tools["memory.search"].call({"query": "deploying"}, DEV))["items"]
    assert [i["text"] for i in found] == ["Deployment needs two approvals"]


@pytest.mark.parametrize(
    ("tool", "args", "says"),
    [
        ("memory.save", {}, "needs text"),
        ("memory.save", {"text": "   "}, "text: must not be empty"),
        ("memory.save", {"text": "x" * 4001}, "text: at most 4000"),
        ("memory.save", {"text": "x", "kind": "gossip"}, "kind: 'gossip' is not one of"),
        ("memory.save", {"text": "x", "tags": "a,b"}, "tags must be a list"),
        ("memory.save", {"text": "x", "tags": [""]}, "tags.0: must be a non-empty string"),
        ("memory.save", {"text": "x", "ttl_days": 0}, "ttl_days"),
        ("context.share", {"text": "x", "kind": "note"}, "kind decision or knowledge"),
        ("context.share", {"text": "x", "ttl_days": "soon"}, "ttl_days"),
        ("memory.search", {}, "needs a query"),
        ("memory.search", {"query": "x", "limit": 0}, "limit must be"),
        ("memory.search", {"query": "x", "limit": True}, "limit must be"),
    ],
)
async def test_bad_arguments_are_refused_and_store_nothing(
    tools: dict[str, Tool], store: MemoryStore, tool: str, args: dict[str, object], says: str
) -> None:
    with pytest.raises(ToolError, match=says.replace("(", r"\(")):
        await tools[tool].call(args, DEV)
    assert await everything(store) == []


async def test_a_run_that_is_not_there_is_refused(tools: dict[str, Tool]) -> None:
    stranger = ToolContext(WS, "run-nope", "task-9", "developer")
    with pytest.raises(ToolError, match="run 'run-nope' not found"):
        await tools["memory.search"].call({"query": "x"}, stranger)


def test_results_are_cut_to_fit_a_context() -> None:
    items = [
        MemoryItem(f"m{n}", WS, MemoryKind.NOTE, "word " * 400, T0, agent_id="a") for n in range(20)
    ]
    body = json.loads(search_result(items))
    assert len(json.dumps(body)) < 8000
    assert body["omitted"] == 20 - len(body["items"])
    assert all(len(i["text"]) <= 801 for i in body["items"])
    assert body["items"][0]["text"].endswith("…")

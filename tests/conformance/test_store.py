"""Conformance suite of the Store port: memory, SQLite and PostgreSQL pass it unchanged.

The tests speak to `swarmyard.ports.Store` only. Time is always given
(leases, due schedules, creation order), never waited for. Every test starts
with two workspaces, A and B, and checks what A can and cannot reach of B.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from swarmyard.domain import (
    Agent,
    AgentManifest,
    Capability,
    Conflict,
    EventType,
    Execution,
    LearningProfile,
    NotFound,
    Priority,
    Project,
    Run,
    RunEvent,
    RunStatus,
    Schedule,
    StaleAttempt,
    Task,
    TaskStatus,
    Workspace,
)
from swarmyard.ports import IdempotentResponse, OutboxMessage, Page, Store, TaskFilter, UnitOfWork

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
A, B = "ws-a", "ws-b"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def task(task_id: str, ws: str = A, **fields: Any) -> Task:
    fields.setdefault("title", f"Task {task_id}")
    fields.setdefault("type", "feature")
    fields.setdefault("created_at", T0)
    return Task(id=task_id, workspace_id=ws, **fields)


def agent(agent_id: str, ws: str = A, *, role: str = "developer", replicas: int = 2) -> Agent:
    return Agent(
        id=agent_id,
        workspace_id=ws,
        name=f"Agent {agent_id}",
        manifest_id="builder",
        manifest_version="1.0.0",
        role=role,
        replicas=replicas,
        created_at=T0,
    )


def run(run_id: str, ws: str = A, **fields: Any) -> Run:
    fields.setdefault("task_id", "t1")
    fields.setdefault("agent_id", "a1")
    fields.setdefault("role", "developer")
    fields.setdefault("created_at", T0)
    return Run(id=run_id, workspace_id=ws, **fields)


def event(run_id: str, seq: int, ws: str = A) -> RunEvent:
    return RunEvent(run_id, ws, seq, EventType.STEP, at(seq), {"n": seq, "nested": [1, {"a": 2}]})


def manifest(manifest_id: str, version: str) -> AgentManifest:
    return AgentManifest(
        id=manifest_id,
        name=manifest_id.title(),
        version=version,
        role="developer",
        capabilities=[Capability(id="build", name="Build", task_types=["feature"])],
        system_prompt="You build things.",
    )


@pytest.fixture
async def st(store: Store) -> Store:
    await store.add_workspace(Workspace(A, "Alpha", T0))
    await store.add_workspace(Workspace(B, "Beta", at(1)))
    return store


@asynccontextmanager
async def committed(store: Store, ws: str = A) -> AsyncIterator[UnitOfWork]:
    async with store.unit_of_work(ws) as uow:
        yield uow
        await uow.commit()


# ------------------------------------------------------------------ workspaces, migrations


async def test_workspaces(st: Store) -> None:
    with pytest.raises(Conflict):
        await st.add_workspace(Workspace(A, "again", T0))
    got = await st.get_workspace(A)
    assert got == Workspace(A, "Alpha", T0)
    assert got.created_at.tzinfo is UTC
    assert [w.id for w in await st.list_workspaces()] == [A, B]
    with pytest.raises(NotFound):
        await st.get_workspace("nope")


async def test_migrating_again_changes_nothing(st: Store) -> None:
    async with committed(st) as uow:
        await uow.tasks.add(task("t1"))
    await st.migrate()
    await st.migrate()
    async with st.unit_of_work(A) as uow:
        assert (await uow.tasks.get("t1")).title == "Task t1"


# ------------------------------------------------------------------ unit of work


async def test_leaving_without_commit_rolls_back(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        await uow.tasks.add(task("t1"))
        assert (await uow.tasks.get("t1")).id == "t1"  # own writes are visible

    async def fail_midway() -> None:
        async with st.unit_of_work(A) as uow:
            await uow.tasks.add(task("t2"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_midway()
    async with st.unit_of_work(A) as uow:
        await uow.tasks.add(task("t3"))
        await uow.rollback()
        await uow.tasks.add(task("t4"))
        await uow.commit()
    async with st.unit_of_work(A) as uow:
        assert [t.id for t in await uow.tasks.list()] == ["t4"]


async def test_writing_into_a_missing_workspace_is_not_found(st: Store) -> None:
    async with st.unit_of_work("ghost") as uow:
        assert await uow.tasks.list() == []
        with pytest.raises(NotFound) as info:
            await uow.tasks.add(task("t1", ws="ghost"))
        assert info.value.kind == "workspace"
        with pytest.raises(RuntimeError, match="rolled back"):
            await uow.tasks.list()


async def test_adding_another_workspaces_object_is_refused(st: Store) -> None:
    async with st.unit_of_work(A) as uow:
        with pytest.raises(ValueError, match="workspace"):
            await uow.tasks.add(task("t1", ws=B))


async def test_timestamps_come_back_as_utc(st: Store) -> None:
    paris = timezone(timedelta(hours=2))
    created = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=paris)
    async with committed(st) as uow:
        await uow.tasks.add(task("t1", created_at=created))
    async with st.unit_of_work(A) as uow:
        got = (await uow.tasks.get("t1")).created_at
    assert got == created
    assert got.tzinfo is UTC
    assert got.hour == 12


# ------------------------------------------------------------------ projects, manifests


async def test_projects(st: Store) -> None:
    async with committed(st) as uow:
        for n in range(3):
            await uow.projects.add(Project(f"p{n}", A, f"P{n}", at(n), workdir=f"/w/{n}"))
        with pytest.raises(Conflict):
            await uow.projects.add(Project("p0", A, "again", T0))
        project = await uow.projects.get("p1")
        project.description, project.updated_at = "changed", at(9)
        await uow.projects.update(project)
        await uow.projects.delete("p2")
    async with st.unit_of_work(A) as uow:
        assert await uow.projects.get("p1") == project
        assert [p.id for p in await uow.projects.list()] == ["p1", "p0"]
        assert [p.id for p in await uow.projects.list(Page(limit=1, after="p1"))] == ["p0"]
        with pytest.raises(NotFound):
            await uow.projects.get("p2")
        with pytest.raises(NotFound):
            await uow.projects.delete("p2")
        with pytest.raises(NotFound):
            await uow.projects.update(Project("p2", A, "gone", T0))


async def test_manifests_pick_the_highest_version(st: Store) -> None:
    async with committed(st) as uow:
        for version in ("1.9.0", "1.10.0", "1.2.0"):
            await uow.manifests.add(manifest("builder", version))
        await uow.manifests.add(manifest("auditor", "0.1.0"))
        with pytest.raises(Conflict):
            await uow.manifests.add(manifest("builder", "1.2.0"))
    async with st.unit_of_work(A) as uow:
        latest = await uow.manifests.get("builder")
        assert latest == manifest("builder", "1.10.0")
        older = await uow.manifests.get("builder", "1.2.0")
        assert older == manifest("builder", "1.2.0")
        assert await uow.manifests.get("builder", "3.0.0") is None
        assert await uow.manifests.get("nope") is None
        listed = [(m.id, m.version) for m in await uow.manifests.list()]
        assert listed == [
            ("auditor", "0.1.0"),
            ("builder", "1.2.0"),
            ("builder", "1.9.0"),
            ("builder", "1.10.0"),
        ]
    async with committed(st, B) as uow:
        assert await uow.manifests.get("builder") is None
        assert await uow.manifests.list() == []
        await uow.manifests.add(manifest("builder", "1.10.0"))  # ids are per workspace


# ------------------------------------------------------------------ agents and slots


async def test_agents(st: Store) -> None:
    async with committed(st) as uow:
        await uow.agents.add(agent("a1"))
        await uow.agents.add(agent("a2", role="tester"))
        with pytest.raises(Conflict):
            await uow.agents.add(agent("a1"))
        assert await uow.agents.take_slot("a1")
        stored = await uow.agents.get("a1")
        stored.replicas, stored.running, stored.name = 5, 99, "renamed"
        await uow.agents.update(stored)
        await uow.agents.delete("a2")
    async with st.unit_of_work(A) as uow:
        got = await uow.agents.get("a1")
        assert (got.replicas, got.running, got.name) == (5, 1, "renamed")  # running untouched
        assert [a.id for a in await uow.agents.list()] == ["a1"]
        assert await uow.agents.list(role="tester") == []
        with pytest.raises(NotFound):
            await uow.agents.get("a2")


async def test_slots_never_exceed_replicas_or_drop_below_zero(st: Store) -> None:
    async with committed(st) as uow:
        await uow.agents.add(agent("a1", replicas=2))
        assert [await uow.agents.take_slot("a1") for _ in range(3)] == [True, True, False]
        for _ in range(3):
            await uow.agents.release_slot("a1")
        assert (await uow.agents.get("a1")).running == 0
        assert await uow.agents.take_slot("a1")
        for call in ("take_slot", "release_slot", "add_usage"):
            with pytest.raises(NotFound):
                await getattr(uow.agents, call)("ghost")


async def test_take_slot_is_atomic_under_concurrency(st: Store) -> None:
    async with committed(st) as uow:
        await uow.agents.add(agent("a1", replicas=6))

    async def take() -> bool:
        async with committed(st) as uow:
            return await uow.agents.take_slot("a1")

    results = await asyncio.gather(*(take() for _ in range(50)))
    assert results.count(True) == 6
    async with st.unit_of_work(A) as uow:
        assert (await uow.agents.get("a1")).running == 6


async def test_usage_counters_add_up_under_concurrency(st: Store) -> None:
    async with committed(st) as uow:
        await uow.agents.add(agent("a1"))

    async def use(n: int) -> None:
        async with committed(st) as uow:
            await uow.agents.add_usage(
                "a1", succeeded=1, tokens_in=n, tokens_out=2, cost_microusd=1_000_001, errors=n % 2
            )

    await asyncio.gather(*(use(n) for n in range(20)))
    async with st.unit_of_work(A) as uow:
        got = await uow.agents.get("a1")
    assert (got.tasks_succeeded, got.tokens_in, got.tokens_out) == (20, 190, 40)
    assert (got.cost_microusd, got.errors, got.tasks_failed) == (20_000_020, 10, 0)


async def test_a_success_ends_the_failure_streak(st: Store) -> None:
    async with committed(st) as uow:
        await uow.agents.add(agent("a1"))
    for outcome in ("failed", "failed", "failed"):
        async with committed(st) as uow:
            await uow.agents.add_usage("a1", **{outcome: 1})
    async with st.unit_of_work(A) as uow:
        assert (await uow.agents.get("a1")).consecutive_failures == 3
    async with committed(st) as uow:
        await uow.agents.add_usage("a1", succeeded=1)
    async with st.unit_of_work(A) as uow:
        got = await uow.agents.get("a1")
    assert (got.consecutive_failures, got.tasks_failed, got.tasks_succeeded) == (0, 3, 1)


# ------------------------------------------------------------------ tasks


async def test_task_round_trip(st: Store) -> None:
    original = task(
        "t1",
        project_id="p1",
        description="Build the thing",
        priority=Priority.URGENT,
        required_role="developer",
        required_capabilities=["build", "test"],
        depends_on=["t0"],
        labels={"area": "api", "sizes": [1, 2], "meta": {"x": None}},
        origin_key="run_1:call_1",
        cost_microusd=12_345_678_901,
        review_required=True,
        updated_at=at(1),
    )
    async with committed(st) as uow:
        await uow.tasks.add(original)
    async with st.unit_of_work(A) as uow:
        assert await uow.tasks.get("t1") == original
        assert await uow.tasks.by_origin("run_1:call_1") == original
        assert await uow.tasks.by_origin("other") is None


async def test_origin_key_is_unique_per_workspace(st: Store) -> None:
    async with committed(st) as uow:
        await uow.tasks.add(task("t1", origin_key="tick-1"))
        with pytest.raises(Conflict, match="origin key"):
            await uow.tasks.add(task("t2", origin_key="tick-1"))
        # A conflict writes nothing and leaves the unit of work usable.
        await uow.tasks.add(task("t3"))
        await uow.tasks.add(task("t4"))  # tasks without a key never collide
        with pytest.raises(Conflict):
            await uow.tasks.add(task("t3"))
    async with committed(st, B) as uow:
        await uow.tasks.add(task("t9", ws=B, origin_key="tick-1"))
    async with st.unit_of_work(A) as uow:
        assert sorted(t.id for t in await uow.tasks.list()) == ["t1", "t3", "t4"]


async def test_task_update_is_optimistic(st: Store) -> None:
    async with committed(st) as uow:
        await uow.tasks.add(task("t1"))
    async with committed(st) as uow:
        first, second = await uow.tasks.get("t1"), await uow.tasks.get("t1")
        first.move(TaskStatus.IN_PROGRESS, now=at(1))
        await uow.tasks.update(first)
        assert first.version == 1
        second.title = "stale edit"
        with pytest.raises(Conflict, match="stale"):
            await uow.tasks.update(second)
        first.result = "done soon"
        await uow.tasks.update(first)
        with pytest.raises(NotFound):
            await uow.tasks.update(task("ghost"))
    async with st.unit_of_work(A) as uow:
        got = await uow.tasks.get("t1")
    assert (got.version, got.status, got.title, got.result) == (
        2,
        TaskStatus.IN_PROGRESS,
        "Task t1",
        "done soon",
    )


async def test_only_one_of_many_stale_updates_wins(st: Store) -> None:
    async with committed(st) as uow:
        await uow.tasks.add(task("t1"))

    async def edit(n: int) -> bool:
        async with committed(st) as uow:
            mine = task("t1", title=f"edit {n}")
            try:
                await uow.tasks.update(mine)
            except Conflict:
                return False
            return True

    results = await asyncio.gather(*(edit(n) for n in range(20)))
    assert results.count(True) == 1
    async with st.unit_of_work(A) as uow:
        assert (await uow.tasks.get("t1")).version == 1


async def test_get_many_keeps_order_and_skips_missing(st: Store) -> None:
    async with committed(st) as uow:
        for n in range(3):
            await uow.tasks.add(task(f"t{n}"))
    async with committed(st, B) as uow:
        await uow.tasks.add(task("tb", ws=B))
    async with st.unit_of_work(A) as uow:
        got = await uow.tasks.get_many(["t2", "nope", "tb", "t0", "t2"])
        assert [t.id for t in got] == ["t2", "t0"]
        assert await uow.tasks.get_many([]) == []


async def test_task_list_pages_newest_first(st: Store) -> None:
    async with committed(st) as uow:
        for n, minute in enumerate([0, 1, 1, 2, 3]):
            await uow.tasks.add(task(f"t{n}", created_at=at(minute)))
    async with st.unit_of_work(A) as uow:
        pages, after = [], None
        while page := await uow.tasks.list(page=Page(limit=2, after=after)):
            pages.append([t.id for t in page])
            after = page[-1].id
        assert pages == [["t4", "t3"], ["t2", "t1"], ["t0"]]
        assert await uow.tasks.list(page=Page(after="unknown")) == []


async def test_task_filters(st: Store) -> None:
    async with committed(st) as uow:
        await uow.agents.add(agent("dev", role="developer"))
        await uow.agents.add(agent("qa", role="tester"))
        await uow.tasks.add(task("t1", project_id="p1", title="Fix LOGIN bug", type="bugfix"))
        await uow.tasks.add(task("t2", project_id="p1", required_role="tester", parent_id="t1"))
        await uow.tasks.add(task("t3", description="100% done_ish", assignee_agent_id="qa"))
        await uow.tasks.add(task("t4", status=TaskStatus.DONE, assignee_agent_id="dev"))
    async with committed(st, B) as uow:
        await uow.tasks.add(task("b1", ws=B, title="login for B", required_role="tester"))

    async def ids(**flt: Any) -> list[str]:
        async with st.unit_of_work(A) as uow:
            return sorted(t.id for t in await uow.tasks.list(TaskFilter(**flt)))

    assert await ids() == ["t1", "t2", "t3", "t4"]
    assert await ids(project_id="p1") == ["t1", "t2"]
    assert await ids(statuses=[TaskStatus.DONE, TaskStatus.REVIEW]) == ["t4"]
    assert await ids(role="tester") == ["t2", "t3"]
    assert await ids(role="developer") == ["t4"]
    assert await ids(type="bugfix") == ["t1"]
    assert await ids(parent_id="t1") == ["t2"]
    assert await ids(assignee_agent_id="qa") == ["t3"]
    assert await ids(text="login") == ["t1"]
    assert await ids(text="0% DONE") == ["t3"]  # in the description; % is literal
    assert await ids(text="e_i") == ["t3"]
    assert await ids(text="k_t") == []  # _ is literal, not "any character"
    assert await ids(text="ta%1") == []  # % is literal, not "anything"
    assert await ids(project_id="p1", role="tester", text="task") == ["t2"]


async def test_ready_is_most_urgent_then_oldest(st: Store) -> None:
    specs = [
        ("low-old", Priority.LOW, 0, {}),
        ("normal-new", Priority.NORMAL, 5, {}),
        ("normal-old", Priority.NORMAL, 1, {}),
        ("urgent", Priority.URGENT, 9, {}),
        ("high", Priority.HIGH, 3, {}),
        ("assigned", Priority.URGENT, 0, {"assignee_agent_id": "a1"}),
        ("backlog", Priority.URGENT, 0, {"status": TaskStatus.BACKLOG}),
    ]
    async with committed(st) as uow:
        for task_id, priority, minute, extra in specs:
            await uow.tasks.add(task(task_id, priority=priority, created_at=at(minute), **extra))
    async with st.unit_of_work(A) as uow:
        ready = [t.id for t in await uow.tasks.ready()]
        assert ready == ["urgent", "high", "normal-old", "normal-new", "low-old"]
        assert [t.id for t in await uow.tasks.ready(limit=2)] == ["urgent", "high"]


async def test_ready_can_be_narrowed_to_what_free_agents_take(st: Store) -> None:
    async with committed(st) as uow:
        await uow.tasks.add(task("docs", type="docs", created_at=at(0)))
        await uow.tasks.add(task("fix", type="bugfix", created_at=at(1)))
        await uow.tasks.add(
            task("for-tester", type="docs", required_role="tester", created_at=at(2))
        )
        await uow.tasks.add(
            task("by-skill", type="research", required_capabilities=["sql"], created_at=at(3))
        )
    async with st.unit_of_work(A) as uow:

        async def ready(roles: list[str], types: list[str]) -> list[str]:
            return [t.id for t in await uow.tasks.ready(roles=roles, types=types)]

        assert await ready(["developer"], ["bugfix"]) == ["fix", "by-skill"]
        assert await ready(["tester"], ["test"]) == ["for-tester", "by-skill"]
        assert await ready(["documenter"], ["docs"]) == ["docs", "by-skill"]
        assert await ready([], []) == ["by-skill"]


async def test_ready_can_leave_out_tasks_already_told_why_they_wait(st: Store) -> None:
    async with committed(st) as uow:
        await uow.tasks.add(task("told", created_at=at(0), waiting_reason="all agents are busy"))
        await uow.tasks.add(task("new", created_at=at(1)))
    async with st.unit_of_work(A) as uow:
        assert [t.id for t in await uow.tasks.ready()] == ["told", "new"]
        assert [t.id for t in await uow.tasks.ready(unexplained=True)] == ["new"]


async def test_dependants_and_counts(st: Store) -> None:
    async with committed(st) as uow:
        await uow.tasks.add(task("t1", status=TaskStatus.DONE))
        await uow.tasks.add(task("t2", depends_on=["t1"], created_at=at(1)))
        await uow.tasks.add(task("t3", depends_on=["t0", "t1"], created_at=at(2)))
        await uow.tasks.add(task("t4", depends_on=["t11"], status=TaskStatus.BLOCKED))
    async with committed(st, B) as uow:
        await uow.tasks.add(task("b1", ws=B, depends_on=["t1"]))
    async with st.unit_of_work(A) as uow:
        assert [t.id for t in await uow.tasks.dependants("t1")] == ["t2", "t3"]
        assert await uow.tasks.dependants("t9") == []
        counts = await uow.tasks.counts_by_status()
    assert counts == {
        **dict.fromkeys(TaskStatus, 0),
        TaskStatus.TODO: 2,
        TaskStatus.DONE: 1,
        TaskStatus.BLOCKED: 1,
    }


# ------------------------------------------------------------------ runs


async def test_run_round_trip_and_list(st: Store) -> None:
    async with committed(st) as uow:
        await uow.runs.add(run("r1", assignment={"scores": [0.5, 0.25]}, input="do it"))
        await uow.runs.add(run("r2", task_id="t2", created_at=at(1)))
        await uow.runs.add(run("r3", agent_id="a2", status=RunStatus.FAILED, created_at=at(2)))
        with pytest.raises(Conflict):
            await uow.runs.add(run("r1"))
    async with st.unit_of_work(A) as uow:
        got = await uow.runs.get("r1")
        assert got == run("r1", assignment={"scores": [0.5, 0.25]}, input="do it")

        async def ids(**kw: Any) -> list[str]:
            return [r.id for r in await uow.runs.list(**kw)]

        assert await ids() == ["r3", "r2", "r1"]
        assert await ids(task_id="t1") == ["r3", "r1"]
        assert await ids(agent_id="a1") == ["r2", "r1"]
        assert await ids(statuses=[RunStatus.FAILED]) == ["r3"]
        assert await ids(page=Page(limit=1, after="r3")) == ["r2"]
        with pytest.raises(NotFound):
            await uow.runs.get("nope")


async def test_claim_renew_and_fencing(st: Store) -> None:
    async with committed(st) as uow:
        await uow.runs.add(run("r1"))
    async with committed(st) as uow:
        first = await uow.runs.claim("r1", owner="w1", now=at(0), lease_until=at(1))
        assert first is not None
        assert (first.status, first.attempt, first.lease_owner) == (RunStatus.RUNNING, 1, "w1")
        assert (first.lease_expires_at, first.started_at) == (at(1), at(0))
        # The lease is still valid: nobody else gets the run.
        assert await uow.runs.claim("r1", owner="w2", now=at(0.5), lease_until=at(2)) is None
        assert await uow.runs.renew("r1", attempt=1, owner="w1", lease_until=at(3))
        assert await uow.runs.claim("r1", owner="w2", now=at(2), lease_until=at(4)) is None
        second = await uow.runs.claim("r1", owner="w2", now=at(3.5), lease_until=at(5))
        assert second is not None
        assert (second.attempt, second.lease_owner, second.started_at) == (2, "w2", at(0))
        # The first worker is fenced off.
        first.steps = 7
        with pytest.raises(StaleAttempt):
            await uow.runs.save(first)
        assert not await uow.runs.renew("r1", attempt=1, owner="w1", lease_until=at(9))
        assert not await uow.runs.renew("r1", attempt=2, owner="w1", lease_until=at(9))
        second.steps = 3
        await uow.runs.save(second)
        second.move(RunStatus.SUCCEEDED, now=at(4))
        await uow.runs.save(second)
        assert await uow.runs.claim("r1", owner="w3", now=at(60), lease_until=at(61)) is None
        assert await uow.runs.claim("ghost", owner="w3", now=at(0), lease_until=at(1)) is None
    async with st.unit_of_work(A) as uow:
        got = await uow.runs.get("r1")
    assert (got.status, got.steps, got.attempt, got.lease_owner) == (
        RunStatus.SUCCEEDED,
        3,
        2,
        None,
    )


async def test_only_one_concurrent_claim_wins(st: Store) -> None:
    async with committed(st) as uow:
        await uow.runs.add(run("r1"))

    async def claim(n: int) -> Run | None:
        async with committed(st) as uow:
            return await uow.runs.claim("r1", owner=f"w{n}", now=at(0), lease_until=at(1))

    claimed = [r for r in await asyncio.gather(*(claim(n) for n in range(20))) if r]
    assert len(claimed) == 1
    assert claimed[0].attempt == 1


async def test_checkpoints_and_sticky_stop_requests(st: Store) -> None:
    async with committed(st) as uow:
        await uow.runs.add(run("r1"))
        assert await uow.runs.checkpoint("r1") is None
        worker = await uow.runs.claim("r1", owner="w1", now=at(0), lease_until=at(1))
        assert worker is not None
        await uow.runs.save(worker, checkpoint=b"\x00history-1")
        api = await uow.runs.get("r1")
        api.stop_requested = True
        await uow.runs.save(api)
        worker.steps = 2
        await uow.runs.save(worker)  # an older copy must not clear the stop request
        assert worker.stop_requested
        assert await uow.runs.checkpoint("r1") == b"\x00history-1"
        await uow.runs.save(worker, checkpoint=b"history-2")
        assert await uow.runs.checkpoint("ghost") is None
        with pytest.raises(NotFound):
            await uow.runs.save(run("ghost"))
    async with st.unit_of_work(A) as uow:
        got = await uow.runs.get("r1")
        assert (got.stop_requested, got.steps) == (True, 2)
        assert await uow.runs.checkpoint("r1") == b"history-2"


async def test_expired_and_active_count(st: Store) -> None:
    async with committed(st) as uow:
        for run_id, agent_id in [("r1", "a1"), ("r2", "a1"), ("r3", "a1"), ("r4", "a2")]:
            await uow.runs.add(run(run_id, agent_id=agent_id))
        await uow.runs.add(run("r5", agent_id="a3", created_at=at(-1)))
        await uow.runs.claim("r1", owner="w", now=at(0), lease_until=at(5))
        await uow.runs.claim("r2", owner="w", now=at(0), lease_until=at(2))
        done = await uow.runs.claim("r4", owner="w", now=at(0), lease_until=at(1))
        assert done is not None
        done.move(RunStatus.FAILED, now=at(0.5))
        await uow.runs.save(done)
    async with st.unit_of_work(A) as uow:
        assert [r.id for r in await uow.runs.expired(at(6))] == ["r2", "r1"]
        assert [r.id for r in await uow.runs.expired(at(3))] == ["r2"]
        assert [r.id for r in await uow.runs.expired(at(6), limit=1)] == ["r2"]
        assert await uow.runs.expired(at(1)) == []
        # Pending ones only (r1, r2 are claimed), oldest first.
        assert [r.id for r in await uow.runs.waiting(at(99))] == ["r5", "r3"]
        assert [r.id for r in await uow.runs.waiting(at(99), limit=1)] == ["r5"]
        assert [r.id for r in await uow.runs.waiting(at(0))] == ["r5"]
        assert await uow.runs.waiting(at(-1)) == []
        assert await uow.runs.active_count("a1") == 3  # r3 pending, r1 and r2 running
        assert await uow.runs.active_count("a2") == 0


# ------------------------------------------------------------------ events


async def test_events_append_and_read(st: Store) -> None:
    async with committed(st) as uow:
        await uow.events.append([event("r1", n) for n in (1, 2, 3)])
        await uow.events.append([event("r1", 4)])
        await uow.events.append([])
        await uow.events.append([event("r2", 1)])
    async with st.unit_of_work(A) as uow:
        assert await uow.events.list("r1") == [event("r1", n) for n in (1, 2, 3, 4)]
        assert [e.seq for e in await uow.events.list("r1", after=2)] == [3, 4]
        assert [e.seq for e in await uow.events.list("r1", after=1, limit=2)] == [2, 3]
        assert await uow.events.list("nope") == []


async def test_duplicate_events_are_refused_whole(st: Store) -> None:
    async with committed(st) as uow:
        await uow.events.append([event("r1", 1), event("r1", 2)])
    async with committed(st) as uow:
        with pytest.raises(Conflict):
            await uow.events.append([event("r1", 3), event("r1", 2), event("r1", 4)])
        with pytest.raises(Conflict):
            await uow.events.append([event("r1", 5), event("r1", 5)])
        await uow.events.append([event("r1", 3)])  # still usable after a conflict
    async with st.unit_of_work(A) as uow:
        assert [e.seq for e in await uow.events.list("r1")] == [1, 2, 3]


# ------------------------------------------------------------------ learning, schedules


async def test_learning_history_and_profiles(st: Store) -> None:
    history = [
        Execution("a1", "feature", at(1), True, 12.5, 300),
        Execution("a1", "bugfix", at(2), False, 3.0, 100),
        Execution("a1", "feature", at(3), True, 7.25, 200),
        Execution("a2", "feature", at(4), True, 1.0, 0),
    ]
    async with committed(st) as uow:
        for execution in history:
            await uow.learning.add_execution(execution)
        await uow.learning.save_profile(LearningProfile(A, "a1", "feature", 1, 0.5))
        newer = LearningProfile(A, "a1", "feature", 2, 0.75, 9.875, 250.0, 0.1, at(5))
        await uow.learning.save_profile(newer)
        await uow.learning.save_profile(LearningProfile(A, "a1", "*", 3, 0.6))
        await uow.learning.save_profile(LearningProfile(A, "a2", "feature", 1, 1.0))
    async with st.unit_of_work(A) as uow:
        assert await uow.learning.executions("a1") == [history[2], history[1], history[0]]
        assert await uow.learning.executions("a1", task_type="feature") == [history[2], history[0]]
        assert await uow.learning.executions("a1", since=at(2)) == [history[2], history[1]]
        assert await uow.learning.executions("a1", limit=1) == [history[2]]
        profiles = await uow.learning.profiles(["a1", "a2"])
        assert [(p.agent_id, p.task_type) for p in profiles] == [
            ("a1", "*"),
            ("a1", "feature"),
            ("a2", "feature"),
        ]
        assert profiles[1] == newer
        assert await uow.learning.profiles(["a1"], ["feature"]) == [newer]
        assert await uow.learning.profiles([]) == []


async def test_schedules(st: Store) -> None:
    def schedule(schedule_id: str, minute: int, **extra: Any) -> Schedule:
        template = {"title": "Nightly audit", "type": "security-audit"}
        return Schedule(
            schedule_id,
            A,
            schedule_id,
            "0 3 * * *",
            "Europe/Paris",
            template,
            at(minute),
            T0,
            **extra,
        )

    async with committed(st) as uow:
        await uow.schedules.add(schedule("s1", 10))
        await uow.schedules.add(schedule("s2", 5))
        await uow.schedules.add(schedule("s3", 1, enabled=False))
        await uow.schedules.add(schedule("s4", 30))
        with pytest.raises(Conflict):
            await uow.schedules.add(schedule("s1", 0))
        s4 = await uow.schedules.get("s4")
        s4.next_run_at, s4.runs, s4.last_task_id = at(60), 1, "t7"
        await uow.schedules.update(s4)
        await uow.schedules.delete("s2")
    async with st.unit_of_work(A) as uow:
        assert await uow.schedules.get("s4") == s4
        assert [s.id for s in await uow.schedules.list()] == ["s1", "s3", "s4"]
        assert [s.id for s in await uow.schedules.due(at(10))] == ["s1"]
        assert [s.id for s in await uow.schedules.due(at(60))] == ["s1", "s4"]
        assert await uow.schedules.due(at(9)) == []
        with pytest.raises(NotFound):
            await uow.schedules.update(schedule("s2", 0))
        with pytest.raises(NotFound):
            await uow.schedules.delete("s2")


async def test_schedule_updates_may_write_only_some_fields(st: Store) -> None:
    # A tick and a pause of the same schedule at once: each writes its own fields.
    template = {"title": "Nightly audit", "type": "security-audit"}
    async with committed(st) as uow:
        await uow.schedules.add(Schedule("s1", A, "s1", "0 3 * * *", "UTC", template, at(10), T0))
    async with st.unit_of_work(A) as uow:
        ticked = await uow.schedules.get("s1")
    async with committed(st) as uow:
        paused = await uow.schedules.get("s1")
        paused.enabled, paused.updated_at = False, at(1)
        await uow.schedules.update(paused, only=("enabled", "updated_at"))
    ticked.next_run_at, ticked.runs, ticked.last_task_id = at(70), 1, "t1"
    async with committed(st) as uow:
        await uow.schedules.update(ticked, only=("next_run_at", "runs", "last_task_id"))
    async with st.unit_of_work(A) as uow:
        both = await uow.schedules.get("s1")
    assert (both.enabled, both.updated_at) == (False, at(1))
    assert (both.next_run_at, both.runs, both.last_task_id) == (at(70), 1, "t1")


# ------------------------------------------------------------------ idempotency, outbox


async def test_idempotency_keys(st: Store) -> None:
    response = IdempotentResponse("key-1", "sha256:abc", 201, b'{"id": "t1"}', T0)
    async with committed(st) as uow:
        assert await uow.idempotency.get("key-1") is None
        await uow.idempotency.put(response)
        with pytest.raises(Conflict):
            await uow.idempotency.put(IdempotentResponse("key-1", "other", 200, b"", T0))
    async with committed(st, B) as uow:
        assert await uow.idempotency.get("key-1") is None
        await uow.idempotency.put(IdempotentResponse("key-1", "b", 200, b"", T0))
    async with st.unit_of_work(A) as uow:
        assert await uow.idempotency.get("key-1") == response


async def test_outbox_pending_and_done(st: Store) -> None:
    def message(message_id: str, ws: str, minute: int) -> OutboxMessage:
        return OutboxMessage(
            message_id,
            ws,
            f"swarmyard.{ws}.board",
            b"\x01data",
            at(minute),
            work_queue=message_id.startswith("q"),
        )

    async with committed(st) as uow:
        await uow.outbox.add(message("m2", A, 2))
        await uow.outbox.add(message("q1", A, 1))
        with pytest.raises(Conflict):
            await uow.outbox.add(message("m2", A, 3))
    async with committed(st, B) as uow:
        await uow.outbox.add(message("m3", B, 0))
    async with st.unit_of_work(A) as uow:
        await uow.outbox.add(message("m9", A, 0))  # never committed
        # Store-level reads work inside an open unit of work, seeing committed rows only.
        assert "m9" not in [m.id for m in await st.outbox_pending()]
        assert (await st.get_workspace(A)).name == "Alpha"
    pending = await st.outbox_pending()
    assert pending == [message("m3", B, 0), message("q1", A, 1), message("m2", A, 2)]
    assert [m.id for m in await st.outbox_pending(limit=1)] == ["m3"]
    await st.outbox_done(["m3", "q1", "unknown"])
    await st.outbox_done([])
    assert [m.id for m in await st.outbox_pending()] == ["m2"]


# ------------------------------------------------------------------ tenancy


@pytest.fixture
async def a_full(st: Store) -> Store:
    """Workspace A holds one of everything; its run r1 is claimed, lease over at 1 min."""
    async with committed(st) as uow:
        await uow.projects.add(Project("p1", A, "P", T0))
        await uow.agents.add(agent("a1"))
        await uow.tasks.add(task("t1", origin_key="k", depends_on=["t0"]))
        await uow.runs.add(run("r1"))
        claimed = await uow.runs.claim("r1", owner="w", now=T0, lease_until=at(1))
        assert claimed is not None
        await uow.runs.save(claimed, checkpoint=b"secret")
        await uow.events.append([event("r1", 1)])
        await uow.learning.add_execution(Execution("a1", "feature", T0, True, 1.0))
        await uow.learning.save_profile(LearningProfile(A, "a1", "feature"))
        await uow.schedules.add(Schedule("s1", A, "s", "* * * * *", "UTC", {}, T0, T0))
    return st


async def test_another_workspaces_rows_are_not_found(a_full: Store) -> None:
    async with committed(a_full, B) as uow:
        denied: list[Callable[[], Awaitable[object]]] = [
            lambda: uow.projects.get("p1"),
            lambda: uow.projects.update(Project("p1", B, "mine now", T0)),
            lambda: uow.projects.delete("p1"),
            lambda: uow.agents.get("a1"),
            lambda: uow.agents.update(agent("a1", B)),
            lambda: uow.agents.delete("a1"),
            lambda: uow.agents.take_slot("a1"),
            lambda: uow.agents.release_slot("a1"),
            lambda: uow.agents.add_usage("a1", succeeded=1),
            lambda: uow.tasks.get("t1"),
            lambda: uow.tasks.update(task("t1", B)),
            lambda: uow.runs.get("r1"),
            lambda: uow.runs.save(run("r1", B, attempt=1)),
            lambda: uow.schedules.get("s1"),
            lambda: uow.schedules.update(Schedule("s1", B, "s", "* * * * *", "UTC", {}, T0, T0)),
            lambda: uow.schedules.delete("s1"),
        ]
        for call in denied:
            with pytest.raises(NotFound):
                await call()
        assert await uow.runs.claim("r1", owner="b", now=at(9), lease_until=at(10)) is None
        assert not await uow.runs.renew("r1", attempt=1, owner="w", lease_until=at(10))
    async with a_full.unit_of_work(A) as uow:
        assert (await uow.projects.get("p1")).name == "P"
        assert (await uow.agents.get("a1")).running == 0
        got = await uow.runs.get("r1")
        assert (got.attempt, got.lease_expires_at) == (1, at(1))


async def test_another_workspaces_rows_are_invisible(a_full: Store) -> None:
    async with committed(a_full, B) as uow:
        assert await uow.projects.list() == []
        assert await uow.agents.list() == []
        assert await uow.tasks.list() == []
        assert await uow.tasks.get_many(["t1"]) == []
        assert await uow.tasks.by_origin("k") is None
        assert await uow.tasks.ready() == []
        assert await uow.tasks.dependants("t0") == []
        assert sum((await uow.tasks.counts_by_status()).values()) == 0
        assert await uow.runs.list() == []
        assert await uow.runs.checkpoint("r1") is None
        assert await uow.runs.expired(at(99)) == []
        assert await uow.runs.active_count("a1") == 0
        assert await uow.events.list("r1") == []
        assert await uow.learning.executions("a1") == []
        assert await uow.learning.profiles(["a1"]) == []
        assert await uow.schedules.list() == []
        assert await uow.schedules.due(at(99)) == []
        await uow.tasks.add(task("t2", B, origin_key="k"))  # origin keys are per workspace
    async with a_full.unit_of_work(A) as uow:  # while A itself sees all of it
        assert [r.id for r in await uow.runs.expired(at(99))] == ["r1"]
        assert await uow.runs.active_count("a1") == 1
        assert await uow.runs.checkpoint("r1") == b"secret"
        assert len(await uow.tasks.dependants("t0")) == 1

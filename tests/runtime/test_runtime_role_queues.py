"""Workers consume one durable per role: restricted workers take only their
roles, a new custom role is served at once, and scarce slots are shared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmyard.catalog import parse_manifest
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import TaskStatus, Workspace
from swarmyard.runtime.role_queues import durable_of, filter_of, known_roles
from swarmyard.runtime.wiring import Container, Plan, build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task

Make = Callable[..., Container]
CONTROL = Plan(api=True, workers=False, control_plane=True, alone=False)
WORKERS = Plan(api=False, workers=True, control_plane=False, alone=False)

CUSTOM = """
id = "release-notes"
name = "Release notes writer"
version = "1.0.0"
role = "release-notes"
system_prompt = "You write release notes from merged changes."
max_concurrent_tasks = 2

[[capabilities]]
id = "release-notes"
name = "Release notes"
complexity = "medium"
task_types = ["docs"]
"""


def done(task: Any) -> bool:
    return bool(task.status is TaskStatus.DONE)


def record_claims(worker: Container, claims: list[tuple[str, str]], name: str) -> None:
    """Note which worker claims which role's run (observing, not replacing, the claim)."""
    claim = worker.lifecycle.claim

    async def noting(workspace_id: str, run_id: str, owner: str) -> Any:
        claimed = await claim(workspace_id, run_id, owner)
        if claimed is not None:
            claims.append((name, claimed.run.role))
        return claimed

    worker.lifecycle.claim = noting  # type: ignore[method-assign]


async def test_restricted_workers_take_only_the_runs_of_their_roles(
    cluster: Make,
) -> None:
    control = cluster(CONTROL)
    developers = cluster(WORKERS, worker_roles="developer")
    testers = cluster(WORKERS, worker_roles="tester")
    claims: list[tuple[str, str]] = []
    record_claims(developers, claims, "developers")
    record_claims(testers, claims, "testers")
    for c in (control, developers, testers):
        await c.start()

    await control.registry.install(WS, "developer", replicas=3)
    await control.registry.install(WS, "tester", replicas=3)
    tasks = [
        await control.tasks.create(WS, NewTask(title=f"{kind} {i}", type=kind))
        for i in range(4)
        for kind in ("bugfix", "test")
    ]
    for t in tasks:
        await wait_for_task(control, WS, t.id, done)
    # The offline developer delegates tests too: more tester runs than tasks made here.
    assert {role for name, role in claims if name == "developers"} == {"developer"}
    assert {role for name, role in claims if name == "testers"} == {"tester"}
    assert sum(name == "developers" for name, _ in claims) >= 4
    assert sum(name == "testers" for name, _ in claims) >= 4
    assert developers.worker.serving == ["developer"]
    assert testers.worker.serving == ["tester"]


async def test_workers_of_one_role_share_its_durable(cluster: Make) -> None:
    control = cluster(CONTROL)
    first = cluster(WORKERS, worker_roles="developer", worker_concurrency=2)
    second = cluster(WORKERS, worker_roles="developer", worker_concurrency=2)
    claims: list[tuple[str, str]] = []
    record_claims(first, claims, "first")
    record_claims(second, claims, "second")
    for c in (control, first, second):
        await c.start()
    # Runs long enough that two at a time fill one worker: the other takes the rest.
    await control.registry.install(WS, "developer", replicas=4)
    tasks = [
        await control.tasks.create(WS, NewTask(title=f"Fix {i}", type="bugfix")) for i in range(8)
    ]
    for t in tasks:
        await wait_for_task(control, WS, t.id, done)
    assert len(claims) == 8
    assert {name for name, _ in claims} == {"first", "second"}


async def test_a_new_custom_role_is_served_as_soon_as_an_agent_of_it_is_installed(
    tmp_path: Path,
) -> None:
    # The periodic rediscovery is far away: only the board notice can be in time.
    c = build(embedded_settings(tmp_path, worker_roles_refresh_seconds=3600))
    await c.start()
    try:
        assert "release-notes" not in c.worker.serving
        await c.catalog.add(WS, parse_manifest(CUSTOM))
        await c.registry.install(WS, "release-notes")
        task = await c.tasks.create(
            WS, NewTask(title="Notes for 2.0", type="docs", required_role="release-notes")
        )
        await wait_for_task(c, WS, task.id, done, timeout=10)
        assert "release-notes" in c.worker.serving
        assert c.worker.serving == sorted(await known_roles(c.store, c.catalog))
    finally:
        await c.stop()


async def test_known_roles_cover_custom_manifests_of_every_workspace(tmp_path: Path) -> None:
    c = build(embedded_settings(tmp_path))
    await c.store.migrate()
    try:
        builtin = await known_roles(c.store, c.catalog)
        assert {"developer", "tester", "architect"} <= builtin
        await c.store.add_workspace(Workspace("acme", "Acme", c.deps.clock.now()))
        await c.catalog.add("acme", parse_manifest(CUSTOM))
        assert await known_roles(c.store, c.catalog) == builtin | {"release-notes"}
    finally:
        await c.store.close()
        await c.bus.close()


async def test_scarce_slots_are_shared_by_every_role(tmp_path: Path) -> None:
    # One slot, thirteen roles: every role still gets its turn. (Roles whose
    # offline runs do not delegate: a waiting parent would keep the only slot.)
    c = build(embedded_settings(tmp_path, worker_concurrency=1, offline_delay_ms=20))
    await c.start()
    try:
        for manifest in ("developer", "tester", "documenter", "devops"):
            await c.registry.install(WS, manifest, replicas=2)
        tasks = [
            await c.tasks.create(WS, NewTask(title=f"{kind} {i}", type=kind))
            for i in range(2)
            for kind in ("test", "docs", "deploy")
        ]
        for t in tasks:
            await wait_for_task(c, WS, t.id, done)
        runs = [r for t in tasks for r in await c.runs.for_task(WS, t.id)]
        edges = sorted([(r.started_at, 1) for r in runs] + [(r.finished_at, -1) for r in runs])
        running = peak = 0
        for _, step in edges:
            running += step
            peak = max(peak, running)
        assert peak == 1
    finally:
        await c.stop()


def test_each_role_has_its_own_durable_and_filter() -> None:
    assert durable_of("release-notes") == "workers-release-notes"
    assert filter_of("developer") == "swarmyard.*.tasks.ready.developer"

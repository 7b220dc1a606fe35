"""A feature travels the whole team: design, implementation, review, test."""

from __future__ import annotations

from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, RunStatus, TaskStatus
from swarmyard.ports import Page, TaskFilter
from swarmyard.runtime.wiring import Container
from swarmyard.services.tasks import NewTask
from swarmyard.testing import wait_for_task


async def install_team(c: Container) -> None:
    for role in ("developer", "architect", "code-reviewer", "tester"):
        await c.registry.install(WS, role)


async def test_feature_is_designed_implemented_reviewed_and_tested(
    any_db_platform: Container,
) -> None:
    platform = any_db_platform
    await install_team(platform)
    root = await platform.tasks.create(WS, NewTask(title="Add CSV export", type="feature"))

    done = await wait_for_task(
        platform, WS, root.id, lambda t: t.status.is_terminal or t.status is TaskStatus.FAILED
    )
    assert done.status is TaskStatus.DONE, done.waiting_reason
    assert done.result
    assert "[offline model]" in done.result

    # the tree: feature -> implementation -> review + test
    impl = await platform.tasks.list(WS, TaskFilter(parent_id=root.id), Page())
    assert [(t.type, t.required_role, t.status) for t in impl] == [
        ("implementation", "developer", TaskStatus.DONE)
    ]
    below = await platform.tasks.list(WS, TaskFilter(parent_id=impl[0].id), Page())
    assert sorted((t.type, t.required_role) for t in below) == [
        ("review", "code-reviewer"),
        ("test", "tester"),
    ]
    assert all(t.status is TaskStatus.DONE for t in below)

    # every run's events are stored, numbered without gaps, and end in completed
    for task in [done, *impl, *below]:
        runs = await platform.runs.for_task(WS, task.id)
        assert [r.status for r in runs] == [RunStatus.SUCCEEDED]
        events = await platform.runs.events(WS, runs[0].id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].type is EventType.STARTED
        assert events[-1].type is EventType.COMPLETED
        assert any(e.type is EventType.LLM_CALL and e.payload["offline"] for e in events)
    root_events = await platform.runs.events(WS, (await platform.runs.for_task(WS, root.id))[0].id)
    assert any(e.type is EventType.DELEGATED for e in root_events)
    dev_events = await platform.runs.events(
        WS, (await platform.runs.for_task(WS, impl[0].id))[0].id
    )
    assert [e.payload["tool"] for e in dev_events if e.type is EventType.TOOL_CALL][:1] == [
        "read_task"
    ]

    # slots are all free again and the agents learned from it
    agents = await platform.registry.list(WS)
    assert all(a.running == 0 for a in agents)
    assert sum(a.tasks_succeeded for a in agents) == 4

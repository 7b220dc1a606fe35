"""Stopping, cancelling, failing and retrying runs; dependencies and waiting reasons."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.usage import RequestUsage

from swarmyard.adapters.llm import OfflineModel
from swarmyard.adapters.llm.errors import ModelRequestRejected
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, ModelSpec, ProviderSpec, RunStatus, Task, TaskStatus
from swarmyard.ports import ModelCall, ModelClient, Page, TaskFilter
from swarmyard.runtime.wiring import Container, build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task


class ScriptedModel:
    """A model whose every answer comes from `script(call)`."""

    provider = "test"
    model_name = "scripted"
    offline = False

    def __init__(self, script: Callable[[ModelCall], ModelResponse]) -> None:
        self.script = script
        self.calls: list[ModelCall] = []

    async def request(self, call: ModelCall) -> ModelResponse:
        self.calls.append(call)
        return self.script(call)


class OneModel:
    """A client factory that hands out the same client for every model."""

    def __init__(self, client: ModelClient) -> None:
        self._client = client

    def client(
        self, provider: ProviderSpec, model: ModelSpec, *, api_key: str | None = None
    ) -> ModelClient:
        return self._client

    async def aclose(self) -> None:
        return None


def answer(text: str) -> ModelResponse:
    return ModelResponse(
        parts=[TextPart(text)], usage=RequestUsage(input_tokens=5, output_tokens=5)
    )


async def running_platform(
    tmp_path: Path, client: ModelClient, **settings: Any
) -> AsyncIterator[Container]:
    c = build(embedded_settings(tmp_path, **settings), models=OneModel(client))
    await c.start()
    try:
        yield c
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)


@pytest.fixture
async def slow(tmp_path: Path) -> AsyncIterator[Container]:
    async for c in running_platform(tmp_path, OfflineModel(delay_ms=60_000)):
        yield c


def settled(t: Task) -> bool:
    return t.status not in (TaskStatus.TODO, TaskStatus.IN_PROGRESS)


async def first_run(c: Container, task_id: str) -> str:
    task = await wait_for_task(c, WS, task_id, lambda t: t.status is TaskStatus.IN_PROGRESS)
    return (await c.runs.for_task(WS, task.id))[0].id


async def test_stop_cancels_the_model_call_and_blocks_the_card(slow: Container) -> None:
    await slow.registry.install(WS, "developer")
    task = await slow.tasks.create(WS, NewTask(title="Slow fix", type="bugfix"))
    run_id = await first_run(slow, task.id)
    await slow.runs.stop(WS, run_id)
    blocked = await wait_for_task(slow, WS, task.id, settled, timeout=10)
    assert blocked.status is TaskStatus.BLOCKED
    assert "stopped" in (blocked.waiting_reason or "")
    run = await slow.runs.get(WS, run_id)
    assert run.status is RunStatus.STOPPED
    events = await slow.runs.events(WS, run_id)
    assert events[-1].type is EventType.STOPPED
    assert not any(e.type is EventType.LLM_CALL for e in events)  # the call never finished
    assert (await slow.registry.list(WS))[0].running == 0


async def test_cancelling_a_task_stops_its_run(slow: Container) -> None:
    for role in ("developer", "architect"):
        await slow.registry.install(WS, role)
    # The architect is slow too, so cancel while it thinks; its run stops and
    # nothing it would have delegated is created.
    root = await slow.tasks.create(WS, NewTask(title="Design a cache", type="feature"))
    run_id = await first_run(slow, root.id)
    await slow.tasks.cancel(WS, root.id)
    cancelled = await slow.tasks.get(WS, root.id)
    assert cancelled.status is TaskStatus.CANCELLED
    run = await _wait_run(slow, run_id, RunStatus.STOPPED)
    assert run.error == "task cancelled"


async def _wait_run(c: Container, run_id: str, status: RunStatus) -> Any:
    async with asyncio.timeout(10):
        sub = await c.bus.subscribe(f"swarmyard.{WS}.runs.events.{run_id}")
        try:
            while (run := await c.runs.get(WS, run_id)).status is not status:
                await sub.next()
            return run
        finally:
            await sub.unsubscribe()


async def test_failed_runs_retry_on_another_agent_then_fail(tmp_path: Path) -> None:
    def reject(call: ModelCall) -> ModelResponse:
        raise ModelRequestRejected("model refused the request", provider="test", model="scripted")

    async for c in running_platform(tmp_path, ScriptedModel(reject)):
        a = await c.registry.install(WS, "developer")
        b = await c.registry.install(WS, "developer")
        task = await c.tasks.create(WS, NewTask(title="Doomed", type="bugfix"))
        after = await c.tasks.create(
            WS, NewTask(title="After", type="bugfix", depends_on=[task.id])
        )
        failed = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.FAILED)
        assert failed.attempts == 2
        assert "model refused" in (failed.result or "")
        runs = await c.runs.for_task(WS, task.id)
        assert sorted(r.agent_id for r in runs) == sorted([a.id, b.id])
        assert all(r.status is RunStatus.FAILED for r in runs)
        blocked = await wait_for_task(c, WS, after.id, lambda t: t.status is TaskStatus.BLOCKED)
        assert task.id in (blocked.waiting_reason or "")


async def test_max_steps_ends_a_run_that_never_answers(tmp_path: Path) -> None:
    def loop_forever(call: ModelCall) -> ModelResponse:
        return ModelResponse(
            parts=[ToolCallPart("list_tasks", {}, tool_call_id=f"c{len(call.messages)}")]
        )

    async for c in running_platform(tmp_path, ScriptedModel(loop_forever)):
        await c.registry.install(WS, "monitor")
        task = await c.tasks.create(WS, NewTask(title="Watch", type="monitoring", max_attempts=1))
        failed = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.FAILED)
        assert "no final answer after 20 steps" in (failed.result or "")
        run = (await c.runs.for_task(WS, task.id))[0]
        assert run.steps == 20


async def test_dependencies_gate_readiness_and_waiting_says_why(tmp_path: Path) -> None:
    model = ScriptedModel(lambda call: answer(f"done: {call.task_title}"))
    async for c in running_platform(tmp_path, model):
        docs = await c.tasks.create(WS, NewTask(title="Write docs", type="docs"))
        waiting = await wait_for_task(c, WS, docs.id, lambda t: t.waiting_reason is not None)
        assert waiting.waiting_reason == (
            "no active agent is installed; install an agent that takes docs tasks "
            "(medium complexity)"
        )
        first = await c.tasks.create(WS, NewTask(title="First", type="bugfix"))
        second = await c.tasks.create(
            WS, NewTask(title="Second", type="bugfix", depends_on=[first.id])
        )
        await c.registry.install(WS, "developer")
        done = await wait_for_task(c, WS, second.id, lambda t: t.status is TaskStatus.DONE)
        before = await c.tasks.get(WS, first.id)
        assert before.finished_at is not None
        assert done.finished_at is not None
        assert before.finished_at <= (await c.runs.for_task(WS, second.id))[0].created_at
        assert [call.task_title for call in model.calls] == ["First", "Second"]


async def test_delegating_to_a_role_already_on_the_chain_is_refused(tmp_path: Path) -> None:
    def delegate_to_self(call: ModelCall) -> ModelResponse:
        returned = [
            p
            for m in call.messages
            for p in getattr(m, "parts", [])
            if getattr(p, "part_kind", "") == "tool-return"
        ]
        if returned:
            return answer(f"could not delegate: {returned[0].content}")
        return ModelResponse(
            parts=[
                ToolCallPart(
                    "delegate",
                    {
                        "role": "developer",
                        "title": "Do it for me",
                        "description": "all of it",
                        "type": "implementation",
                    },
                    tool_call_id="d1",
                )
            ]
        )

    async for c in running_platform(tmp_path, ScriptedModel(delegate_to_self)):
        await c.registry.install(WS, "developer", replicas=2)
        task = await c.tasks.create(WS, NewTask(title="Recursive", type="bugfix"))
        done = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.DONE)
        assert "refused" in (done.result or "")
        assert "developer is already working on this task" in (done.result or "")
        assert await c.tasks.list(WS, TaskFilter(parent_id=task.id), Page()) == []


async def test_wall_time_limit_interrupts_a_hanging_model_call(tmp_path: Path) -> None:
    async for c in running_platform(tmp_path, OfflineModel(delay_ms=60_000), run_max_seconds=0.5):
        await c.registry.install(WS, "developer")
        task = await c.tasks.create(WS, NewTask(title="Hangs", type="bugfix", max_attempts=1))
        failed = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.FAILED)
        run = (await c.runs.for_task(WS, task.id))[0]
        assert run.status is RunStatus.TIMED_OUT
        assert run.error == "run exceeded its wall-time limit of 0.5 s"
        assert failed.result == run.error
        events = await c.runs.events(WS, run.id)
        assert events[-1].type is EventType.ERROR

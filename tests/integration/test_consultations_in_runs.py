"""Consultations inside real runs on the embedded platform: a developer asks
the architect and gets its answer in the conversation; an architect asks
the decision-maker, and the decision lands in shared context and the task
graph; a role no worker serves is a tool error the run carries on from."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelResponse
from test_policy_gate import settled, submit, tool_call, tool_results
from test_run_control import OneModel, ScriptedModel, answer

from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, TaskStatus
from swarmyard.ports import ModelCall
from swarmyard.ports.spend import UsageFilter
from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings, wait_for_task

QUESTION = "Which module owns the result cache?"
ARCHITECT_SAYS = "The repository layer owns it, behind the Store port."
OPTIONS = ["Cache in process memory", "Cache in Redis"]


def script(call: ModelCall) -> ModelResponse:
    if call.consultation == "help":
        return answer(ARCHITECT_SAYS)
    if call.consultation == "decision":
        return answer("Choice: 2\n\nThree replicas need one shared cache.")
    seen = tool_results(call)
    if call.role == "developer":
        if "help-1" not in seen:
            return tool_call(
                "agent.request_help",
                "help-1",
                role="architect",
                question=QUESTION,
                deadline_seconds=1 if "Hurry" in call.task_title else 30,
            )
        return answer(f"carried on after: {seen['help-1']}")
    if "decide-1" not in seen:
        return tool_call(
            "agent.request_decision",
            "decide-1",
            question="Where does the cache live?",
            options=OPTIONS,
            context="Three API replicas.",
        )
    return answer(f"decided: {seen['decide-1']}")


@asynccontextmanager
async def started(tmp_path: Path, **settings: Any) -> AsyncIterator[Container]:
    c = build(embedded_settings(tmp_path, **settings), models=OneModel(ScriptedModel(script)))
    await c.start()
    try:
        yield c
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)


async def tool_result(c: Container, task_id: str) -> dict[str, Any]:
    (run,) = await c.runs.for_task(WS, task_id)
    (event,) = [e for e in await c.runs.events(WS, run.id) if e.type is EventType.TOOL_RESULT]
    return dict(event.payload)


async def test_a_developer_gets_the_architects_answer(tmp_path: Path) -> None:
    async with started(tmp_path) as c:
        for role in ("developer", "architect"):
            await c.registry.install(WS, role)
        task = await submit(c, "Add a result cache", "feature", "developer")
        done = await wait_for_task(c, WS, task.id, settled)
        assert done.status is TaskStatus.DONE
        result = await tool_result(c, task.id)
        assert result["ok"] is True
        said = json.loads(result["content"])
        assert (said["role"], said["answer"]) == ("architect", ARCHITECT_SAYS)
        assert ARCHITECT_SAYS in (done.result or "")
        (run,) = await c.runs.for_task(WS, task.id)
        async with c.store.unit_of_work(WS) as uow:
            entries = await uow.ledger.list(UsageFilter(run_id=run.id))
        # The developer's two steps, and the architect's answer against the same run.
        assert sorted(e.role for e in entries) == ["architect", "developer", "developer"]


async def test_a_decision_lands_in_shared_context_and_the_task_graph(tmp_path: Path) -> None:
    async with started(tmp_path) as c:
        for role in ("architect", "decision-maker"):
            await c.registry.install(WS, role)
        task = await submit(c, "Design the result cache", "design", "architect")
        done = await wait_for_task(c, WS, task.id, settled)
        assert done.status is TaskStatus.DONE
        decided = json.loads((await tool_result(c, task.id))["content"])
        assert (decided["decided"], decided["option"]) == (True, "Cache in Redis")
        (run,) = await c.runs.for_task(WS, task.id)
        (item,) = await c.memory.search(WS, kind="decision")
        assert (item.id, item.run_id, item.task_id) == (decided["decision_id"], run.id, task.id)
        assert item.text.startswith("Decision: Cache in Redis")
        graph = (await c.task_graphs.graph(WS, task.id)).as_dict()
        assert {"from": run.id, "to": item.id, "kind": "decided"} in graph["edges"]


async def test_a_role_nobody_serves_is_a_tool_error_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    # This process serves the developer only: nobody answers for the architect.
    async with started(tmp_path, worker_roles="developer") as c:
        for role in ("developer", "architect"):
            await c.registry.install(WS, role)
        task = await submit(c, "Hurry: add a result cache", "feature", "developer")
        done = await wait_for_task(c, WS, task.id, settled)
        assert done.status is TaskStatus.DONE
        result = await tool_result(c, task.id)
        assert result["ok"] is False
        assert json.loads(result["content"]) == {"error": "no architect answered within 1 s"}
        assert "no architect answered within 1 s" in (done.result or "")

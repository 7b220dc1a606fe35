"""Consultations inside real runs on the embedded platform: a developer asks
the architect and gets its answer in the conversation; an architect asks
the decision-maker, and the decision lands in shared context and the task
graph; a role no worker serves is a tool error the run carries on from.
The asking run pays for the answer (its ledger rows, its totals, its cost
limit), and stopping a run ends its wait for an answer at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelResponse, TextPart
from pydantic_ai.usage import RequestUsage
from test_policy_gate import settled, submit, tool_call, tool_results
from test_run_control import OneModel, ScriptedModel, answer

from swarmyard.config_file import PlatformFile, parse_platform_file
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, Run, RunStatus, TaskStatus, subjects
from swarmyard.domain.consultation import ConsultReply
from swarmyard.ports import BusMessage, ModelCall
from swarmyard.ports.spend import UsageFilter
from swarmyard.runtime.wiring import Container, build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task

QUESTION = "Which module owns the result cache?"
ARCHITECT_SAYS = "The repository layer owns it, behind the Store port."
OPTIONS = ["Cache in process memory", "Cache in Redis"]
# How long the developer waits for the architect, by the task's title.
DEADLINES = {"Hurry": 1, "Wait": 300}
# One model at $1,000 per million tokens either way: a token costs 1,000 µUSD.
PRICED = {
    "router": {"offline_fallback": False},
    "providers": {
        "cloud": {
            "kind": "openai-compatible",
            "base_url": "https://cloud.example/v1",
            "models": [
                {
                    "name": "big",
                    "tier": "mid",
                    "max_output_tokens": 4000,
                    "price": {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0},
                }
            ],
        }
    },
}
ANSWER_TOKENS = 1000  # the architect reads a lot: 1,000 + 5 tokens, $1.005


def script(call: ModelCall) -> ModelResponse:
    if call.consultation == "help":
        return ModelResponse(
            parts=[TextPart(ARCHITECT_SAYS)],
            usage=RequestUsage(input_tokens=ANSWER_TOKENS, output_tokens=5),
        )
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
                deadline_seconds=next(
                    (s for word, s in DEADLINES.items() if word in call.task_title), 30
                ),
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
async def started(
    tmp_path: Path, platform: PlatformFile | None = None, **settings: Any
) -> AsyncIterator[Container]:
    c = build(
        embedded_settings(tmp_path, **settings),
        models=OneModel(ScriptedModel(script)),
        platform=platform,
    )
    await c.start()
    try:
        yield c
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)


async def tool_result(c: Container, task_id: str) -> dict[str, Any]:
    (run,) = await c.runs.for_task(WS, task_id)
    (event,) = [e for e in await c.runs.events(WS, run.id) if e.type is EventType.TOOL_RESULT]
    return dict(event.payload)


async def ended(c: Container, run_id: str, *, within: float = 10.0) -> Run:
    """The run once it has ended, re-read at each of its events."""
    async with asyncio.timeout(within):
        sub = await c.bus.subscribe(subjects.run_events(WS, run_id))
        try:
            while not (run := await c.runs.get(WS, run_id)).status.is_terminal:
                await sub.next()
            return run
        finally:
            await sub.unsubscribe()


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
        # The developer's two steps, and the architect's answer, all the developer run's.
        assert [e.role for e in entries] == ["developer"] * 3
        assert {e.agent_id for e in entries} == {run.agent_id}
        assert sum(e.reason.startswith("the architect answering the developer") for e in entries)


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


async def test_the_asking_run_pays_for_the_answer(tmp_path: Path) -> None:
    async with started(tmp_path, parse_platform_file(PRICED)) as c:
        for role in ("developer", "architect"):
            await c.registry.install(WS, role)
        task = await submit(c, "Add a result cache", "feature", "developer")
        done = await wait_for_task(c, WS, task.id, settled)
        assert done.status is TaskStatus.DONE
        (run,) = await c.runs.for_task(WS, task.id)
        async with c.store.unit_of_work(WS) as uow:
            entries = await uow.ledger.list(UsageFilter(run_id=run.id))
        (consulted,) = [e for e in entries if e.reason.startswith("the architect answering")]
        assert consulted.cost_microusd == (ANSWER_TOKENS + 5) * 1000
        # The run's totals (and its card's) are its ledger rows, the answer included.
        assert run.cost_microusd == sum(e.cost_microusd for e in entries)
        assert run.tokens_in == sum(e.tokens_in for e in entries)
        assert run.tokens_out == sum(e.tokens_out for e in entries)
        assert done.cost_microusd == run.cost_microusd
        result = await tool_result(c, task.id)
        assert result["cost_usd"] == consulted.cost_microusd / 1_000_000


async def test_a_costly_answer_ends_a_run_at_its_cost_limit(tmp_path: Path) -> None:
    async with started(tmp_path, parse_platform_file(PRICED)) as c:
        for role in ("developer", "architect"):
            await c.registry.install(WS, role)
        # The developer's first step costs $0.015: well below; the answer, $1.005, is not.
        await c.policies.put(
            WS, {"name": "frugal", "max_cost_usd_per_run": 0.1}, by="test", create=True
        )
        task = await c.tasks.create(
            WS,
            NewTask(
                title="Add a result cache",
                type="feature",
                required_role="developer",
                max_attempts=1,
            ),
        )
        failed = await wait_for_task(c, WS, task.id, settled)
        assert failed.status is TaskStatus.FAILED
        (run,) = await c.runs.for_task(WS, task.id)
        assert run.status is RunStatus.FAILED
        assert run.steps == 1  # stopped before a model call of its own, by the same rule
        assert run.error == (
            "the run has cost $1.0200, its limit is $0.1000 (policy 'frugal': max_cost_usd_per_run)"
        )
        events = await c.runs.events(WS, run.id)
        (denied,) = [e for e in events if e.type is EventType.POLICY_DENIED]
        assert denied.payload["rule"] == "policy 'frugal': max_cost_usd_per_run"
        assert [e.type for e in events][-2:] == [EventType.POLICY_DENIED, EventType.ERROR]


async def test_stopping_a_run_ends_its_wait_for_an_answer_at_once(tmp_path: Path) -> None:
    # Nobody in this process answers for the architect but the test's server
    # below, which takes the question and keeps it.
    async with started(tmp_path, worker_roles="developer") as c:
        for role in ("developer", "architect"):
            await c.registry.install(WS, role)
        asked: asyncio.Future[BusMessage] = asyncio.get_running_loop().create_future()
        release = asyncio.Event()
        late = ConsultReply(
            ok=True, role="architect", answer=ARCHITECT_SAYS, agent="late", cost_microusd=10**6
        ).to_bytes()

        async def keeps_the_question(message: BusMessage) -> bytes:
            if not asked.done():
                asked.set_result(message)
            await release.wait()
            return late

        server = await c.bus.serve(subjects.agent_help(WS, "architect"), keeps_the_question)
        try:
            task = await submit(c, "Wait for the architect", "feature", "developer")
            question = await asyncio.wait_for(asked, 10)  # the run waits, for up to 300 s
            (run,) = await c.runs.for_task(WS, task.id)
            await c.runs.stop(WS, run.id)
            # Ended by the stop, not by the deadline: `ended` gives up after 10 s.
            stopped = await ended(c, run.id)
            assert stopped.status is RunStatus.STOPPED
            assert stopped.error == "stopped on request"
            events = await c.runs.events(WS, run.id)
            interrupted, last = events[-2:]
            assert last.type is EventType.STOPPED
            assert interrupted.type is EventType.TOOL_RESULT
            assert interrupted.payload["call_id"] == "help-1"
            assert interrupted.payload["interrupted"] is True
            assert interrupted.payload["ok"] is False
            assert json.loads(interrupted.payload["content"]) == {
                "error": "interrupted: stopped on request"
            }
            blocked = await c.tasks.get(WS, task.id)
            assert blocked.status is TaskStatus.BLOCKED

            # An answer delivered now reaches nobody: the run is as it ended.
            assert question.reply
            await c.bus.publish(question.reply, late)
            assert await c.runs.get(WS, run.id) == stopped
            assert await c.runs.events(WS, run.id) == events
            assert (await c.tasks.get(WS, task.id)).cost_microusd == blocked.cost_microusd
        finally:
            release.set()
            await server.unsubscribe()

"""The fetch and command tools inside a real run: the policy gate sees their
effects, and the permission to run without a sandbox travels from a policy
through the agent loop to the sandbox."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import ModelResponse, ToolCallPart, ToolReturnPart
from pydantic_ai.usage import RequestUsage
from test_run_control import OneModel, ScriptedModel, answer

from swarmyard.adapters.net import MemoryHttpFetcher
from swarmyard.adapters.sandbox import UnavailableSandbox
from swarmyard.adapters.tools import HttpFetchTool, RunCommandTool
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, Task, TaskStatus
from swarmyard.ports import ModelCall, ToolContext, ToolSpec
from swarmyard.runtime.wiring import Container, build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task


def call_once(tool: str, **args: Any) -> ScriptedModel:
    """Calls `tool` once, then answers with what it returned."""

    def script(call: ModelCall) -> ModelResponse:
        results = [
            str(part.content)
            for message in call.messages
            for part in getattr(message, "parts", [])
            if isinstance(part, ToolReturnPart)
        ]
        if results:
            return answer(f"tool said: {results[0]}")
        return ModelResponse(
            parts=[ToolCallPart(tool_name=tool, args=args, tool_call_id="call-1")],
            usage=RequestUsage(input_tokens=10, output_tokens=5),
        )

    return ScriptedModel(script)


async def run_task(
    tmp_path: Path,
    model: ScriptedModel,
    tools: dict[str, Any],
    role: str,
    policy: dict[str, Any],
    *,
    workdir: Path | None = None,
) -> tuple[Task, list[Any]]:
    c: Container = build(embedded_settings(tmp_path), models=OneModel(model), tools=tools)
    await c.start()
    try:
        await c.registry.install(WS, role)
        if policy:
            await c.policies.put(WS, policy, by="test", create=True)
        project = None
        if workdir is not None:
            project = await c.projects.create(WS, name="site", workdir=str(workdir))
        task = await c.tasks.create(
            WS,
            NewTask(
                title="Try it",
                type="implementation",
                required_role=role,
                project_id=project.id if project else None,
            ),
        )
        done = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.DONE)
        runs = await c.runs.for_task(WS, task.id)
        events = [e for r in runs for e in await c.runs.events(WS, r.id)]
        return done, events
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)


def tool_result(events: list[Any]) -> dict[str, Any]:
    (result,) = [e.payload for e in events if e.type is EventType.TOOL_RESULT]
    return result


async def test_without_a_sandbox_commands_are_refused_by_default(tmp_path: Path) -> None:
    tool = RunCommandTool(UnavailableSandbox("bwrap is not installed"), scratch_root=tmp_path / "s")
    _, events = await run_task(
        tmp_path,
        call_once("sandbox.run", command="echo hi"),
        {"sandbox.run": tool},
        "developer",
        {},
    )
    denied = [e.payload for e in events if e.type is EventType.POLICY_DENIED]
    assert denied[0]["rule"] == "sandbox: none available"
    assert tool_result(events)["ok"] is False


async def test_a_policy_allowing_unsandboxed_commands_reaches_the_sandbox(tmp_path: Path) -> None:
    tool = RunCommandTool(UnavailableSandbox("bwrap is not installed"), scratch_root=tmp_path / "s")
    _, events = await run_task(
        tmp_path,
        call_once("sandbox.run", command="echo hi"),
        {"sandbox.run": tool},
        "developer",
        {"name": "trusted-host", "allow_unsandboxed": True},
    )
    result = tool_result(events)
    assert result["ok"] is True
    content = json.loads(result["content"])
    assert (content["stdout"], content["sandbox"]) == ("hi\n", "unsandboxed")


async def test_commands_start_in_the_tasks_project_directory(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>hi</h1>")
    tool = RunCommandTool(UnavailableSandbox("bwrap is not installed"), scratch_root=tmp_path / "s")
    _, events = await run_task(
        tmp_path,
        call_once("sandbox.run", command="pwd; ls"),
        {"sandbox.run": tool},
        "developer",
        {"name": "trusted-host", "allow_unsandboxed": True},
        workdir=site,
    )
    content = json.loads(tool_result(events)["content"])
    assert content["stdout"] == f"{site}\nindex.html\n"


async def test_a_refused_fetch_reaches_the_model_naming_its_rule(tmp_path: Path) -> None:
    fetcher = MemoryHttpFetcher(names={"intranet.example": ["10.0.0.8"]})
    done, events = await run_task(
        tmp_path,
        call_once("http.fetch", url="http://intranet.example/admin"),
        {"http.fetch": HttpFetchTool(fetcher)},
        "architect",
        {},
    )
    assert "refused (private)" in json.loads(tool_result(events)["content"])["error"]
    assert fetcher.sent == []
    assert "refused (private)" in (done.result or "")


class Bulky:
    """A read-only tool answering 12,000 characters."""

    spec = ToolSpec(name="list_tasks", description="Bulky", parameters={"type": "object"})

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        return "x" * 12_000


def three_bulky_reads(call: ModelCall) -> ModelResponse:
    results = [
        str(part.content)
        for message in call.messages
        for part in getattr(message, "parts", [])
        if isinstance(part, ToolReturnPart)
    ]
    if len(results) < 3:
        return ModelResponse(
            parts=[ToolCallPart(tool_name="list_tasks", args={}, tool_call_id=f"c{len(results)}")],
            usage=RequestUsage(input_tokens=10, output_tokens=5),
        )
    return answer(" ".join(str(len(r)) for r in results))


@pytest.mark.parametrize(("budget", "cut"), [(24_000, False), (2_000, True)])
async def test_the_history_budget_setting_shortens_older_results(
    tmp_path: Path, budget: int, cut: bool
) -> None:
    c = build(
        embedded_settings(tmp_path, history_budget_tokens=budget),
        models=OneModel(ScriptedModel(three_bulky_reads)),
        tools={"list_tasks": Bulky()},
    )
    await c.start()
    try:
        await c.registry.install(WS, "developer")
        task = await c.tasks.create(
            WS, NewTask(title="Read", type="implementation", required_role="developer")
        )
        done = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.DONE)
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)
    first, *_, last = [int(n) for n in (done.result or "").split()]
    assert last == 12_000  # the latest result is never cut
    assert (first < 12_000) is cut

"""An installed skill pack reaches the runs of its roles: its instructions
are in the system prompt and its tools are offered (still under the
policies); runs of other roles get neither."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic_ai.messages import ModelResponse, SystemPromptPart
from test_policy_gate import OneModel, ScriptedModel, answer

from swarmyard.catalog.loader import parse_manifest
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import TaskStatus
from swarmyard.domain.skill import SkillPack
from swarmyard.ports import ModelCall
from swarmyard.runtime.wiring import build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task

KIND = {"analyst": "research", "writer": "docs"}


def role(name: str) -> dict[str, object]:
    return {
        "id": name,
        "name": name.title(),
        "version": "1.0.0",
        "role": name,
        "system_prompt": f"You are the {name}.",
        "capabilities": [{"id": f"{name}-work", "name": "Work", "task_types": [KIND[name]]}],
        "allowed_tools": ["read_task"],
    }


def reports_what_it_got(call: ModelCall) -> ModelResponse:
    system = "".join(
        part.content
        for message in call.messages
        for part in getattr(message, "parts", [])
        if isinstance(part, SystemPromptPart)
    )
    tools = ",".join(t.name for t in call.tools)
    return answer(f"tools={tools} triage={'Triage first' in system}")


async def test_a_pack_gives_its_roles_instructions_and_tools(tmp_path: Path) -> None:
    c = build(embedded_settings(tmp_path), models=OneModel(ScriptedModel(reports_what_it_got)))
    await c.start()
    try:
        for name in ("analyst", "writer"):
            await c.catalog.add(WS, parse_manifest(role(name), source="test"))
            await c.registry.install(WS, name)
        pack = SkillPack(
            id="triage",
            name="Triage",
            version="1.0.0",
            instructions="Triage first: list the open tasks before anything else.",
            tools=["list_tasks", "memory.*"],
            roles=["analyst"],
        )
        await c.skills.publish(WS, pack)
        await c.skills.install(WS, "triage", by="test")
        results = {}
        for name in ("analyst", "writer"):
            task = await c.tasks.create(
                WS, NewTask(title="Look", type=KIND[name], required_role=name)
            )
            done = await asyncio.wait_for(
                wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.DONE), 60
            )
            results[name] = done.result
    finally:
        await asyncio.wait_for(c.stop(grace=2.0), 30)
    assert results["analyst"] == (
        "tools=read_task,list_tasks,memory.save,memory.search triage=True"
    )
    assert results["writer"] == "tools=read_task triage=False"

"""Agents on a real OpenAI-compatible endpoint (loopback server, real wire protocol)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, TaskStatus
from swarmyard.runtime.wiring import build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task


async def test_a_run_calls_a_tool_and_answers_through_the_endpoint(
    tmp_path: Path, chat_server: Any, completion: Callable[..., dict[str, Any]]
) -> None:
    chat_server.reply(
        completion(
            tool_calls=[{"id": "call_1", "name": "list_tasks", "args": {"status": "todo"}}],
            prompt_tokens=120,
            completion_tokens=12,
        )
    )
    chat_server.reply({"error": {"message": "overloaded"}}, status=503)  # retried
    chat_server.reply(
        completion("Fixed: the export now escapes quotes.", prompt_tokens=150, completion_tokens=9)
    )
    settings = embedded_settings(
        tmp_path,
        openai_base_url=chat_server.base_url,
        openai_api_key="sk-test-secret",
        model="llama3.1",
    )
    c = build(settings)
    await c.start()
    try:
        await c.registry.install(WS, "developer")
        task = await c.tasks.create(WS, NewTask(title="Escape quotes in CSV", type="bugfix"))
        done = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.DONE)
        assert done.result == "Fixed: the export now escapes quotes."

        run = (await c.runs.for_task(WS, task.id))[0]
        assert (run.model, run.tokens_in, run.tokens_out) == ("openai-compatible:llama3.1", 270, 21)
        events = await c.runs.events(WS, run.id)
        calls = [e.payload for e in events if e.type is EventType.LLM_CALL]
        assert [(p["offline"], p["tokens_in"]) for p in calls] == [(False, 120), (False, 150)]
        result = next(e.payload for e in events if e.type is EventType.TOOL_RESULT)
        assert result["ok"]
        assert result["call_id"] == "call_1"

        # the wire: the system prompt, the brief, the tools, then the tool's answer
        first, *_, last = chat_server.requests
        assert first["model"] == "llama3.1"
        assert first["messages"][0]["role"] == "system"
        assert "Escape quotes in CSV" in first["messages"][1]["content"]
        assert {t["function"]["name"] for t in first["tools"]} >= {"list_tasks", "read_task"}
        assert last["messages"][-1]["role"] == "tool"
        assert last["messages"][-1]["tool_call_id"] == "call_1"
        assert chat_server.headers[0]["authorization"] == "Bearer sk-test-secret"
    finally:
        await asyncio.wait_for(c.stop(), 30)

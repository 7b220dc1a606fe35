"""Agents on a model that answers in text only (a small local model): the
run is sent no tools, its plain answer is the run's answer, and the run's
events say why the role's tools went unused (loopback server, real wire)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmyard.config_file import parse_platform_file
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import EventType, TaskStatus
from swarmyard.runtime.wiring import build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings, wait_for_task


async def test_a_text_only_model_finishes_the_run_in_one_step(
    tmp_path: Path, chat_server: Any, completion: Callable[..., dict[str, Any]]
) -> None:
    chat_server.reply(completion("Here is the design: one table, two endpoints."))
    platform = parse_platform_file(
        {
            "router": {"offline_fallback": False},
            "providers": {
                "tiny": {
                    "kind": "openai-compatible",
                    "base_url": chat_server.base_url,
                    "models": [{"name": "tiny", "tier": "fast", "tool_calls": False}],
                }
            },
        }
    )
    c = build(embedded_settings(tmp_path), platform=platform)
    await c.start()
    try:
        await c.registry.install(WS, "developer")
        task = await c.tasks.create(WS, NewTask(title="Add CSV export", type="implementation"))
        done = await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.DONE)
        assert done.result == "Here is the design: one table, two endpoints."

        (request,) = chat_server.requests
        assert "tools" not in request  # nothing it could not use
        assert request["messages"][0]["role"] == "system"

        run = (await c.runs.for_task(WS, task.id))[0]
        assert (run.steps, run.model) == (1, "tiny:tiny")
        events = await c.runs.events(WS, run.id)
        note = next(e.payload for e in events if e.type is EventType.PROGRESS)
        assert note["kind"] == "tools_unavailable"
        assert note["model"] == "tiny:tiny"
        assert {"read_task", "delegate"} <= set(note["tools"])
        assert "answers in text only" in note["message"]
        assert events[-1].type is EventType.COMPLETED
    finally:
        await asyncio.wait_for(c.stop(), 30)


async def test_a_model_that_calls_tools_gets_them_and_no_note(
    tmp_path: Path, chat_server: Any, completion: Callable[..., dict[str, Any]]
) -> None:
    chat_server.reply(completion("Done."))
    c = build(embedded_settings(tmp_path, openai_base_url=chat_server.base_url, model="llama3.1"))
    await c.start()
    try:
        await c.registry.install(WS, "developer")
        task = await c.tasks.create(WS, NewTask(title="Fix it", type="bugfix"))
        await wait_for_task(c, WS, task.id, lambda t: t.status is TaskStatus.DONE)
        assert chat_server.requests[0]["tools"]
        run = (await c.runs.for_task(WS, task.id))[0]
        events = await c.runs.events(WS, run.id)
        assert not any(e.type is EventType.PROGRESS for e in events)
    finally:
        await asyncio.wait_for(c.stop(), 30)

"""Fixtures for the model adapters: the platform's built-in tools, a tiny
agent loop that drives a `ModelClient` to its final answer, a loopback
server speaking the vendors' wire protocols (`fake_provider`), and helpers
to build a call and to collect a stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from swarmyard.ports import ModelCall, ModelClient, ToolSpec
from swarmyard.testing.providers import FakeProviderServer

TOOLS = [
    ToolSpec(
        "delegate",
        "Create a subtask for another role and wait for its result.",
        {
            "type": "object",
            "properties": {
                "role": {"type": "string"},
                "title": {"type": "string"},
                "description": {"type": "string"},
                "type": {"type": "string"},
                "complexity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
            },
            "required": ["role", "title", "description", "type"],
        },
    ),
    ToolSpec(
        "read_task",
        "Read a task of this workspace.",
        {"type": "object", "properties": {"task_id": {"type": "string"}}, "required": ["task_id"]},
    ),
    ToolSpec(
        "list_tasks",
        "List tasks, optionally by status or text.",
        {
            "type": "object",
            "properties": {"status": {"type": "string"}, "text": {"type": "string"}},
        },
    ),
]

ToolAnswer = Callable[[ToolCallPart], Awaitable[str]]


def delegation(
    status: str = "done", result: str = "", reason: str = "", task_id: str = "t-sub"
) -> str:
    return json.dumps({"task_id": task_id, "status": status, "result": result, "reason": reason})


@dataclass
class Transcript:
    """What a driven run did: every response, every tool call, the history."""

    messages: list[ModelMessage]
    responses: list[ModelResponse] = field(default_factory=list)
    calls: list[ToolCallPart] = field(default_factory=list)

    @property
    def final_text(self) -> str:
        return "\n".join(p.content for p in self.responses[-1].parts if isinstance(p, TextPart))

    def called(self, tool: str) -> list[ToolCallPart]:
        return [c for c in self.calls if c.tool_name == tool]


async def drive(
    client: ModelClient,
    *,
    role: str,
    task_type: str,
    title: str,
    description: str = "",
    on_tool: ToolAnswer | None = None,
    parent_task_id: str | None = None,
    complexity: str = "medium",
    tools: list[ToolSpec] | None = None,
    run_id: str = "run-1",
    task_id: str = "task-1",
    max_steps: int = 20,
) -> Transcript:
    """A minimal agent loop: call the model, answer its tool calls, repeat
    until it answers without calling a tool."""
    transcript = Transcript(
        messages=[
            ModelRequest(
                parts=[
                    SystemPromptPart(f"You are the {role} of a Swarmyard team."),
                    UserPromptPart(f"{title}\n\n{description}".strip()),
                ]
            )
        ]
    )
    for _ in range(max_steps):
        call = ModelCall(
            messages=list(transcript.messages),
            tools=TOOLS if tools is None else tools,
            role=role,
            run_id=run_id,
            task_id=task_id,
            task_type=task_type,
            task_title=title,
            task_description=description,
            complexity=complexity,
            parent_task_id=parent_task_id,
        )
        response = await client.request(call)
        transcript.responses.append(response)
        transcript.messages.append(response)
        calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
        if not calls:
            return transcript
        assert on_tool is not None, f"the model called {calls[0].tool_name} with no tools answered"
        returns = []
        for part in calls:
            transcript.calls.append(part)
            content = await on_tool(part)
            returns.append(ToolReturnPart(part.tool_name, content, part.tool_call_id))
        transcript.messages.append(ModelRequest(parts=returns))
    raise AssertionError(f"no final answer after {max_steps} steps")


# Helpers reach the tests as fixtures: test directories here are not
# packages, so importing from this module by name would be fragile.


@pytest.fixture
def tools() -> list[ToolSpec]:
    return list(TOOLS)


@pytest.fixture(name="drive")
def drive_fixture() -> Callable[..., Awaitable[Transcript]]:
    return drive


@pytest.fixture(name="delegation")
def delegation_fixture() -> Callable[..., str]:
    return delegation


def ask(tools: list[ToolSpec] | None = None, **fields: Any) -> ModelCall:
    """A one-question call: a system prompt and a user prompt, `tools` offered."""
    messages = [
        ModelRequest(
            parts=[
                SystemPromptPart("You are the developer of a Swarmyard team."),
                UserPromptPart("Fix the CSV export."),
            ]
        )
    ]
    return ModelCall(messages=fields.pop("messages", messages), tools=tools or [], **fields)


async def collect(stream: AsyncIterator[str | ModelResponse]) -> tuple[list[str], ModelResponse]:
    """A stream's text deltas and its final response, checking the port's
    promise: strings first, then exactly one response, last."""
    items = [item async for item in stream]
    *deltas, last = items
    assert all(isinstance(d, str) for d in deltas), items
    assert isinstance(last, ModelResponse), items
    return [d for d in deltas if isinstance(d, str)], last


async def drain(
    stream: AsyncIterator[str | ModelResponse], into: list[str | ModelResponse]
) -> None:
    """Read a stream to its end (or its error), keeping what arrived in `into`."""
    async for item in stream:
        into.append(item)


@pytest.fixture
async def fake_provider() -> AsyncIterator[FakeProviderServer]:
    async with FakeProviderServer() as fake:
        yield fake


@pytest.fixture(name="ask")
def ask_fixture() -> Callable[..., ModelCall]:
    return ask


@pytest.fixture(name="drain")
def drain_fixture() -> Callable[..., Awaitable[None]]:
    return drain


@pytest.fixture(name="collect")
def collect_fixture() -> Callable[..., Awaitable[tuple[list[str], ModelResponse]]]:
    return collect

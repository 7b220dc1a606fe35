"""The OpenAI-compatible adapter against a loopback server that speaks the
real chat-completions wire protocol (the `chat_server` face of the fake
provider, which queues chat-completion bodies verbatim)."""

from __future__ import annotations

import json
import re
import time
import traceback
from typing import Any

import pytest
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from swarmyard.adapters.llm import (
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
    OpenAICompatibleModel,
)
from swarmyard.adapters.llm._tool_names import WireNames
from swarmyard.adapters.llm.errors import ModelConfigurationError
from swarmyard.ports import ModelCall, ModelClient, ToolSpec
from swarmyard.testing.providers import Reply, ToolCall

SECRET = "sk-test-4f9a1c77e2b0d3secret"


def conversation() -> list[Any]:
    return [
        ModelRequest(
            parts=[SystemPromptPart("You are the architect."), UserPromptPart("Design X")]
        ),
        ModelResponse(
            parts=[
                TextPart("Delegating."),
                ToolCallPart("delegate", {"role": "developer", "title": "Build X"}, "call_1"),
            ]
        ),
        ModelRequest(
            parts=[ToolReturnPart("delegate", '{"task_id": "t2", "status": "done"}', "call_1")]
        ),
    ]


@pytest.fixture
async def model(chat_server: Any) -> Any:
    client = OpenAICompatibleModel(base_url=chat_server.base_url, model="llama3.1", api_key=SECRET)
    yield client
    await client.aclose()


def call_with(tools: list[Any], **fields: Any) -> ModelCall:
    return ModelCall(messages=fields.pop("messages", conversation()), tools=tools, **fields)


def test_implements_the_port(chat_server: Any) -> None:
    client: ModelClient = OpenAICompatibleModel(base_url=chat_server.base_url, model="qwen2.5")
    assert (client.provider, client.model_name, client.offline) == (
        "openai-compatible",
        "qwen2.5",
        False,
    )


async def test_sends_tools_and_conversation(
    model: Any, chat_server: Any, tools: list[Any], completion: Any
) -> None:
    chat_server.reply(completion("Done."))
    await model.request(call_with(tools, max_tokens=256, role="architect"))

    (sent,) = chat_server.requests
    assert sent["model"] == "llama3.1"
    assert sent["max_tokens"] == 256  # the field every compatible server understands
    assert "max_completion_tokens" not in sent
    assert sent.get("stream") in (None, False)
    assert [t["function"]["name"] for t in sent["tools"]] == ["delegate", "read_task", "list_tasks"]
    delegate = sent["tools"][0]["function"]
    assert delegate["description"].startswith("Create a subtask")
    assert delegate["parameters"]["required"] == ["role", "title", "description", "type"]
    assert delegate["parameters"]["properties"]["complexity"]["enum"][0] == "low"

    system, user, assistant, tool = sent["messages"]
    assert system == {"role": "system", "content": "You are the architect."}
    assert user == {"role": "user", "content": "Design X"}
    assert assistant["role"] == "assistant"
    assert assistant["content"] == "Delegating."
    (tool_call,) = assistant["tool_calls"]
    assert tool_call["id"] == "call_1"
    assert tool_call["function"]["name"] == "delegate"
    assert json.loads(tool_call["function"]["arguments"]) == {
        "role": "developer",
        "title": "Build X",
    }
    assert tool == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"task_id": "t2", "status": "done"}',
    }
    assert chat_server.headers[0]["authorization"] == f"Bearer {SECRET}"


async def test_parses_text_tool_calls_and_usage(
    model: Any, chat_server: Any, tools: list[Any], completion: Any
) -> None:
    chat_server.reply(
        completion(
            "Reading the parent first.",
            [{"id": "call_abc", "name": "read_task", "args": {"task_id": "t-1"}}],
            prompt_tokens=321,
            completion_tokens=45,
        )
    )
    response = await model.request(call_with(tools))
    text = [p for p in response.parts if isinstance(p, TextPart)]
    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert [p.content for p in text] == ["Reading the parent first."]
    assert [(c.tool_name, c.args_as_dict(), c.tool_call_id) for c in calls] == [
        ("read_task", {"task_id": "t-1"}, "call_abc")
    ]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (321, 45)
    assert response.model_name == "llama3.1"
    assert response.finish_reason == "tool_call"


async def test_final_answer_without_tools(model: Any, chat_server: Any, completion: Any) -> None:
    chat_server.reply(completion("The answer."))
    response = await model.request(call_with([]))
    assert [p.content for p in response.parts if isinstance(p, TextPart)] == ["The answer."]
    assert "tools" not in chat_server.requests[0]
    assert "max_tokens" not in chat_server.requests[0]


async def test_keyless_endpoint(chat_server: Any, completion: Any) -> None:
    client = OpenAICompatibleModel(base_url=chat_server.base_url, model="llama3.1")
    chat_server.reply(completion("ok"))
    try:
        await client.request(call_with([]))
    finally:
        await client.aclose()
    assert len(chat_server.requests) == 1


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (429, ModelRateLimited, True),
        (500, ModelUnavailable, True),
        (503, ModelUnavailable, True),
        (400, ModelRequestRejected, False),
        (401, ModelRequestRejected, False),
        (404, ModelRequestRejected, False),
    ],
)
async def test_http_errors_map_to_our_errors(
    model: Any, chat_server: Any, status: int, error: type[ModelError], retryable: bool
) -> None:
    # The server echoes the key back, as some providers do in auth errors.
    chat_server.reply(
        {
            "error": {
                "message": f"bad request, key Bearer {SECRET} / {SECRET}",
                "type": "invalid_request_error",
                "code": None,
            }
        },
        status,
    )
    started = time.monotonic()
    with pytest.raises(ModelError) as caught:
        await model.request(call_with([]))
    assert type(caught.value) is error
    assert caught.value.retryable is retryable
    assert caught.value.status_code == status
    assert f"HTTP {status}" in str(caught.value)
    assert "bad request" in str(caught.value), "the provider's explanation is kept"
    rendered = "".join(traceback.format_exception(caught.value))
    assert SECRET not in rendered
    assert SECRET[:12] not in rendered
    assert len(chat_server.requests) == 1, "no SDK retries: the router decides"
    assert time.monotonic() - started < 2


async def test_rate_limit_carries_retry_after(model: Any, chat_server: Any) -> None:
    chat_server.reply(
        {"error": {"message": "slow down", "code": "rate_limit_exceeded"}},
        429,
        headers={"Retry-After": "7"},
    )
    with pytest.raises(ModelRateLimited) as caught:
        await model.request(call_with([]))
    assert caught.value.retryable
    assert caught.value.retry_after == 7


async def test_exhausted_quota_is_not_retryable(model: Any, chat_server: Any) -> None:
    chat_server.reply(
        {"error": {"message": "You exceeded your quota", "code": "insufficient_quota"}}, 429
    )
    with pytest.raises(ModelRateLimited) as caught:
        await model.request(call_with([]))
    assert caught.value.retryable is False
    assert "quota" in str(caught.value)


async def test_connection_refused_is_unavailable(closed_port: int) -> None:
    client = OpenAICompatibleModel(
        base_url=f"http://127.0.0.1:{closed_port}/v1", model="llama3.1", api_key=SECRET
    )
    try:
        with pytest.raises(ModelUnavailable) as caught:
            await client.request(call_with([]))
    finally:
        await client.aclose()
    assert caught.value.retryable
    assert caught.value.status_code is None
    assert f"127.0.0.1:{closed_port}" in str(caught.value)
    assert SECRET not in "".join(traceback.format_exception(caught.value))


async def test_timeout_is_unavailable(chat_server: Any, completion: Any) -> None:
    chat_server.delay = 0.8
    chat_server.reply(completion("too late"))
    client = OpenAICompatibleModel(base_url=chat_server.base_url, model="llama3.1", timeout=0.2)
    started = time.monotonic()
    try:
        with pytest.raises(ModelUnavailable, match="timed out") as caught:
            await client.request(call_with([]))
    finally:
        await client.aclose()
    assert caught.value.retryable
    assert time.monotonic() - started < 0.7


async def test_garbled_response_is_unavailable(model: Any, chat_server: Any) -> None:
    chat_server.reply({"unexpected": "shape"})
    with pytest.raises(ModelUnavailable):
        await model.request(call_with([]))


async def test_credentials_in_the_url_never_reach_messages(closed_port: int) -> None:
    client = OpenAICompatibleModel(
        base_url=f"http://user:{SECRET}@127.0.0.1:{closed_port}/v1", model="llama3.1"
    )
    try:
        with pytest.raises(ModelUnavailable) as caught:
            await client.request(call_with([]))
    finally:
        await client.aclose()
    assert SECRET not in "".join(traceback.format_exception(caught.value))


def test_model_name_is_required() -> None:
    with pytest.raises(ModelConfigurationError, match="model name"):
        OpenAICompatibleModel(base_url="http://127.0.0.1:1/v1", model=" ")


async def test_streams_deltas_then_the_response_with_usage(
    fake_provider: Any, ask: Any, tools: list[Any], collect: Any
) -> None:
    client = OpenAICompatibleModel(
        base_url=fake_provider.openai_base_url, model="qwen2.5", api_key=SECRET
    )
    fake_provider.enqueue(
        Reply(
            "Checking the parent.",
            [ToolCall("read_task", {"task_id": "t-1"}, "call_s")],
            input_tokens=90,
            output_tokens=14,
            cached_tokens=64,
        )
    )
    try:
        deltas, response = await collect(client.stream(ask(tools, max_tokens=128)))
    finally:
        await client.aclose()
    assert "".join(deltas) == "Checking the parent."
    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert [(c.tool_name, c.args_as_dict()) for c in calls] == [("read_task", {"task_id": "t-1"})]
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (90, 14, 64)
    (sent,) = fake_provider.requests
    assert sent.body["max_tokens"] == 128
    assert sent.body["stream"] is True


async def test_dotted_tool_names_go_out_in_the_wire_form_and_come_back(
    model: Any, chat_server: Any, completion: Any
) -> None:
    spec = ToolSpec("mcp.time.get_current_time", "The time now.", {"type": "object"})
    read = ToolSpec("fs.read", "Read a file.", {"type": "object"})
    history = [
        ModelRequest(parts=[UserPromptPart("What time is it?")]),
        ModelResponse(parts=[ToolCallPart("fs.read", {"path": "a"}, "call_1")]),
        ModelRequest(parts=[ToolReturnPart("fs.read", "text", "call_1")]),
    ]
    chat_server.reply(
        completion("", [{"id": "call_2", "name": "mcp__time__get_current_time", "args": {}}])
    )
    response = await model.request(ModelCall(messages=history, tools=[spec, read]))
    (sent,) = chat_server.requests
    names = [t["function"]["name"] for t in sent["tools"]]
    assert names == ["mcp__time__get_current_time", "fs__read"]
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", n) for n in names)
    assert sent["messages"][1]["tool_calls"][0]["function"]["name"] == "fs__read"
    (called,) = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert called.tool_name == "mcp.time.get_current_time"
    # The history handed in is not changed.
    assert history[1].parts[0].tool_name == "fs.read"  # type: ignore[union-attr]


def test_wire_names_stay_valid_and_distinct() -> None:
    long = "mcp." + "x" * 80 + ".tool"
    names = WireNames(["fs.read", "fs_read", long, "odd name!"])
    assert names.out("fs.read") != names.out("fs_read")
    assert len(names.out(long)) <= 64
    assert names.back(names.out(long)) == long
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", names.out("odd name!"))
    assert names.back("made_up") == "made_up"

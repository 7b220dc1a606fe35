"""The Anthropic adapter (kind ``anthropic``) against a loopback server
speaking the Messages API wire protocol."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from swarmyard.adapters.llm import (
    AnthropicModel,
    ModelConfigurationError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
)
from swarmyard.ports import ModelClient
from swarmyard.testing.providers import (
    Drop,
    ErrorReply,
    FakeProviderServer,
    Reply,
    ToolCall,
)

KEY = "sk-ant-api03-test4f9a1c77e2b0d3secret"
MODEL = "claude-sonnet-4-6"


@pytest.fixture
async def model(fake_provider: FakeProviderServer) -> AsyncIterator[AnthropicModel]:
    client = AnthropicModel(
        model=MODEL, api_key=KEY, base_url=fake_provider.anthropic_base_url, provider="claude"
    )
    yield client
    await client.aclose()


def test_implements_the_port(model: AnthropicModel) -> None:
    client: ModelClient = model
    assert (client.provider, client.model_name, client.offline) == ("claude", MODEL, False)


def test_needs_a_key() -> None:
    with pytest.raises(ModelConfigurationError, match="API key"):
        AnthropicModel(model=MODEL, api_key="")


async def test_plain_answer_with_usage(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(Reply("Fixed.", input_tokens=1200, output_tokens=9, cached_tokens=1024))
    response = await model.request(ask(max_tokens=256))

    assert [p.content for p in response.parts if isinstance(p, TextPart)] == ["Fixed."]
    # Anthropic reports the uncached part as input_tokens; pydantic-ai adds the cache reads back.
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (1200, 9, 1024)
    assert response.model_name == MODEL
    (sent,) = fake_provider.requests
    assert sent.path == "/v1/messages"
    # The SDK sends the key as a bearer token; the API also takes `x-api-key`.
    assert sent.api_key == KEY
    assert f"Bearer {KEY}" in sent.headers.get("authorization", "") or (
        sent.headers.get("x-api-key") == KEY
    )
    assert "anthropic-version" in sent.headers
    assert sent.body["model"] == MODEL
    assert sent.body["max_tokens"] == 256
    assert not sent.stream
    assert "You are the developer" in str(sent.body["system"])
    assert [m["role"] for m in sent.body["messages"]] == ["user"]


async def test_tool_calls_are_parsed_with_their_arguments(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any, tools: Any
) -> None:
    fake_provider.enqueue(
        Reply(
            "Reading the parent first.",
            [
                ToolCall("read_task", {"task_id": "t-1"}, id="toolu_a"),
                ToolCall("list_tasks", {"status": "todo"}, id="toolu_b"),
            ],
        )
    )
    response = await model.request(ask(tools, max_tokens=256))

    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert [(c.tool_name, c.args_as_dict(), c.tool_call_id) for c in calls] == [
        ("read_task", {"task_id": "t-1"}, "toolu_a"),
        ("list_tasks", {"status": "todo"}, "toolu_b"),
    ]
    assert response.finish_reason == "tool_call"
    sent = fake_provider.requests[0].body
    assert [t["name"] for t in sent["tools"]] == ["delegate", "read_task", "list_tasks"]
    assert sent["tools"][1]["input_schema"]["required"] == ["task_id"]


async def test_streams_text_deltas_then_the_response(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any, collect: Any
) -> None:
    fake_provider.enqueue(
        Reply("The export now escapes quotes.", input_tokens=50, output_tokens=8, cached_tokens=20)
    )
    deltas, response = await collect(model.stream(ask(max_tokens=64)))

    assert len(deltas) > 1
    assert "".join(deltas) == "The export now escapes quotes."
    assert [p.content for p in response.parts if isinstance(p, TextPart)] == [
        "The export now escapes quotes."
    ]
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (50, 8, 20)
    sent = fake_provider.requests[0]
    assert sent.stream
    assert sent.body["max_tokens"] == 64


async def test_streams_a_tool_call(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any, tools: Any, collect: Any
) -> None:
    args = {"role": "tester", "title": "Test the export", "description": "CSV", "type": "test"}
    fake_provider.enqueue(Reply("Delegating.", [ToolCall("delegate", args, id="toolu_d")]))
    deltas, response = await collect(model.stream(ask(tools, max_tokens=64)))

    assert "".join(deltas) == "Delegating."
    (call,) = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert (call.tool_name, call.args_as_dict(), call.tool_call_id) == ("delegate", args, "toolu_d")


async def test_rate_limit_carries_retry_after(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(ErrorReply(429, "Number of request tokens has exceeded", retry_after=7))
    with pytest.raises(ModelRateLimited) as caught:
        await model.request(ask(max_tokens=64))
    assert caught.value.retryable
    assert caught.value.retry_after == 7
    assert caught.value.status_code == 429
    assert len(fake_provider.requests) == 1, "no SDK retries: the router decides"


@pytest.mark.parametrize("status", [500, 503, 529])
async def test_server_errors_and_overload_are_retryable(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any, status: int
) -> None:
    fake_provider.enqueue(ErrorReply(status, "Overloaded"))
    with pytest.raises(ModelUnavailable) as caught:
        await model.request(ask(max_tokens=64))
    assert caught.value.retryable
    assert caught.value.status_code == status


async def test_bad_key_is_rejected_and_never_shown(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(ErrorReply(401, f"invalid x-api-key: {KEY}", echo_key=True))
    with pytest.raises(ModelRequestRejected) as caught:
        await model.request(ask(max_tokens=64))
    assert caught.value.retryable is False
    assert caught.value.status_code == 401
    assert "invalid x-api-key" in str(caught.value)
    rendered = "".join(traceback.format_exception(caught.value))
    assert KEY not in rendered
    assert KEY[:14] not in rendered


async def test_billing_error_is_an_exhausted_quota(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(ErrorReply(400, "Your credit balance is too low", code="billing_error"))
    with pytest.raises(ModelRateLimited) as caught:
        await model.request(ask(max_tokens=64))
    assert caught.value.retryable is False


async def test_a_stream_cut_short_raises_our_error(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any, drain: Any
) -> None:
    # message_start, ping, content_block_start, then two text deltas.
    fake_provider.enqueue(Drop(after_events=5, reply=Reply("one two three four five")))
    received: list[str | ModelResponse] = []
    with pytest.raises(ModelUnavailable) as caught:
        await drain(model.stream(ask(max_tokens=64)), received)
    assert received == ["one ", "two "]
    assert caught.value.retryable


async def test_the_conversation_goes_out_in_anthropic_shape(
    model: AnthropicModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    history = [
        ModelRequest(parts=[UserPromptPart("Design X")]),
        ModelResponse(parts=[ToolCallPart("read_task", {"task_id": "t-1"}, "toolu_1")]),
        ModelRequest(parts=[ToolReturnPart("read_task", '{"title": "X"}', "toolu_1")]),
    ]
    fake_provider.enqueue(Reply("Done."))
    await model.request(ask(messages=history, max_tokens=64))
    _, assistant, result = fake_provider.requests[0].body["messages"]
    (use,) = [b for b in assistant["content"] if b["type"] == "tool_use"]
    assert (use["id"], use["name"], use["input"]) == ("toolu_1", "read_task", {"task_id": "t-1"})
    (returned,) = [b for b in result["content"] if b["type"] == "tool_result"]
    assert returned["tool_use_id"] == "toolu_1"

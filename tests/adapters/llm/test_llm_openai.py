"""The OpenAI adapter (kind ``openai``) against a loopback server speaking
OpenAI's chat-completions wire protocol."""

from __future__ import annotations

import json
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
    ModelConfigurationError,
    ModelError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
    OpenAIModel,
)
from swarmyard.ports import ModelClient
from swarmyard.testing.providers import (
    Drop,
    ErrorReply,
    FakeProviderServer,
    Reply,
    ToolCall,
)

KEY = "sk-proj-test4f9a1c77e2b0d3secret"


@pytest.fixture
async def model(fake_provider: FakeProviderServer) -> AsyncIterator[OpenAIModel]:
    client = OpenAIModel(
        model="gpt-4o", api_key=KEY, base_url=fake_provider.openai_base_url, provider="oa"
    )
    yield client
    await client.aclose()


def test_implements_the_port(model: OpenAIModel) -> None:
    client: ModelClient = model
    assert (client.provider, client.model_name, client.offline) == ("oa", "gpt-4o", False)


def test_needs_a_key_and_a_model_name() -> None:
    with pytest.raises(ModelConfigurationError, match="API key"):
        OpenAIModel(model="gpt-4o", api_key="")
    with pytest.raises(ModelConfigurationError, match="model name"):
        OpenAIModel(model=" ", api_key=KEY)


async def test_plain_answer_with_usage(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(Reply("Fixed.", input_tokens=1200, output_tokens=9, cached_tokens=1024))
    response = await model.request(ask(max_tokens=256))

    assert [p.content for p in response.parts if isinstance(p, TextPart)] == ["Fixed."]
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (1200, 9, 1024)
    assert response.model_name == "gpt-4o"
    (sent,) = fake_provider.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.body["model"] == "gpt-4o"
    # OpenAI's own API takes the cap as `max_completion_tokens`: its reasoning
    # models refuse `max_tokens`.
    assert sent.body["max_completion_tokens"] == 256
    assert "max_tokens" not in sent.body
    assert [m["role"] for m in sent.body["messages"]] == ["system", "user"]


async def test_tool_calls_are_parsed_with_their_arguments(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any, tools: Any
) -> None:
    fake_provider.enqueue(
        Reply(
            "Reading the parent first.",
            [
                ToolCall("read_task", {"task_id": "t-1"}, id="call_a"),
                ToolCall("list_tasks", {"status": "todo"}, id="call_b"),
            ],
        )
    )
    response = await model.request(ask(tools))

    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert [(c.tool_name, c.args_as_dict(), c.tool_call_id) for c in calls] == [
        ("read_task", {"task_id": "t-1"}, "call_a"),
        ("list_tasks", {"status": "todo"}, "call_b"),
    ]
    assert response.finish_reason == "tool_call"
    sent = fake_provider.requests[0].body
    assert [t["function"]["name"] for t in sent["tools"]] == ["delegate", "read_task", "list_tasks"]
    assert sent["tools"][1]["function"]["parameters"]["required"] == ["task_id"]


async def test_streams_text_deltas_then_the_response(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any, collect: Any
) -> None:
    fake_provider.enqueue(Reply("The export now escapes quotes.", input_tokens=50, output_tokens=8))
    deltas, response = await collect(model.stream(ask(max_tokens=64)))

    assert len(deltas) > 1
    assert "".join(deltas) == "The export now escapes quotes."
    assert [p.content for p in response.parts if isinstance(p, TextPart)] == [
        "The export now escapes quotes."
    ]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (50, 8)
    sent = fake_provider.requests[0]
    assert sent.stream
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["max_completion_tokens"] == 64


async def test_streams_a_tool_call(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any, tools: Any, collect: Any
) -> None:
    args = {"role": "tester", "title": "Test the export", "description": "CSV", "type": "test"}
    fake_provider.enqueue(
        Reply(tool_calls=[ToolCall("delegate", args)], input_tokens=80, cached_tokens=64)
    )
    deltas, response = await collect(model.stream(ask(tools)))

    assert deltas == []
    (call,) = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert (call.tool_name, call.args_as_dict()) == ("delegate", args)
    assert response.usage.cache_read_tokens == 64


async def test_rate_limit_carries_retry_after(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(ErrorReply(429, "Rate limit reached", retry_after=7))
    with pytest.raises(ModelRateLimited) as caught:
        await model.request(ask())
    assert caught.value.retryable
    assert caught.value.retry_after == 7
    assert caught.value.status_code == 429
    assert (caught.value.provider, caught.value.model) == ("oa", "gpt-4o")
    assert len(fake_provider.requests) == 1, "no SDK retries: the router decides"


async def test_exhausted_quota_is_not_retryable(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(ErrorReply(429, "You exceeded your quota", code="insufficient_quota"))
    with pytest.raises(ModelRateLimited) as caught:
        await model.request(ask())
    assert caught.value.retryable is False


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any, status: int
) -> None:
    fake_provider.enqueue(ErrorReply(status, "The server had an error"))
    with pytest.raises(ModelUnavailable) as caught:
        await model.request(ask())
    assert caught.value.retryable
    assert caught.value.status_code == status
    assert "The server had an error" in str(caught.value)


async def test_bad_key_is_rejected_and_never_shown(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    # The server echoes the key back, as some providers and proxies do.
    fake_provider.enqueue(ErrorReply(401, f"Incorrect API key: Bearer {KEY}", echo_key=True))
    with pytest.raises(ModelRequestRejected) as caught:
        await model.request(ask())
    assert caught.value.retryable is False
    assert caught.value.status_code == 401
    assert "Incorrect API key" in str(caught.value)
    rendered = "".join(traceback.format_exception(caught.value))
    assert KEY not in rendered
    assert KEY[:12] not in rendered


async def test_a_stream_cut_short_raises_our_error(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any, drain: Any
) -> None:
    fake_provider.enqueue(Drop(after_events=3, reply=Reply("one two three four five")))
    received: list[str | ModelResponse] = []
    with pytest.raises(ModelUnavailable) as caught:
        await drain(model.stream(ask()), received)
    assert received == ["one ", "two "], "the deltas sent before the drop arrive"
    assert caught.value.retryable
    assert caught.value.__cause__ is None


async def test_an_error_before_the_stream_opens_is_ours(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(ErrorReply(429, retry_after=2, echo_key=True))
    with pytest.raises(ModelError) as caught:
        await anext(aiter(model.stream(ask())))
    assert isinstance(caught.value, ModelRateLimited)
    assert caught.value.retry_after == 2
    assert KEY not in str(caught.value)


async def test_the_conversation_goes_out_in_openai_shape(
    model: OpenAIModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    history = [
        ModelRequest(parts=[UserPromptPart("Design X")]),
        ModelResponse(parts=[ToolCallPart("read_task", {"task_id": "t-1"}, "call_1")]),
        ModelRequest(parts=[ToolReturnPart("read_task", '{"title": "X"}', "call_1")]),
    ]
    fake_provider.enqueue(Reply("Done."))
    await model.request(ask(messages=history))
    _, assistant, tool = fake_provider.requests[0].body["messages"]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"task_id": "t-1"}
    assert tool == {"role": "tool", "tool_call_id": "call_1", "content": '{"title": "X"}'}

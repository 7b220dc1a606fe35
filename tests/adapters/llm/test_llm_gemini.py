"""The Gemini adapter (kind ``gemini``) against a loopback server speaking
the generateContent wire protocol."""

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
    GeminiModel,
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

KEY = "AIzaSyTest4f9a1c77e2b0d3secretKey"
MODEL = "gemini-2.5-flash"


@pytest.fixture
async def model(fake_provider: FakeProviderServer) -> AsyncIterator[GeminiModel]:
    client = GeminiModel(
        model=MODEL, api_key=KEY, base_url=fake_provider.gemini_base_url, provider="google-ai"
    )
    yield client
    await client.aclose()


def test_implements_the_port(model: GeminiModel) -> None:
    client: ModelClient = model
    assert (client.provider, client.model_name, client.offline) == ("google-ai", MODEL, False)


def test_needs_a_key() -> None:
    with pytest.raises(ModelConfigurationError, match="API key"):
        GeminiModel(model=MODEL, api_key="")


async def test_plain_answer_with_usage(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(Reply("Fixed.", input_tokens=1200, output_tokens=9, cached_tokens=1024))
    response = await model.request(ask(max_tokens=256))

    assert [p.content for p in response.parts if isinstance(p, TextPart)] == ["Fixed."]
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (1200, 9, 1024)
    assert response.model_name == MODEL
    (sent,) = fake_provider.requests
    assert sent.path == f"/v1beta/models/{MODEL}:generateContent"
    assert sent.headers["x-goog-api-key"] == KEY
    assert "key" not in sent.query
    assert sent.body["generationConfig"]["maxOutputTokens"] == 256
    assert "You are the developer" in str(sent.body["systemInstruction"])
    assert [c["role"] for c in sent.body["contents"]] == ["user"]


async def test_tool_calls_are_parsed_with_their_arguments(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any, tools: Any
) -> None:
    fake_provider.enqueue(
        Reply(
            "Reading the parent first.",
            [ToolCall("read_task", {"task_id": "t-1"}), ToolCall("list_tasks", {"status": "todo"})],
        )
    )
    response = await model.request(ask(tools))

    calls = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert [(c.tool_name, c.args_as_dict()) for c in calls] == [
        ("read_task", {"task_id": "t-1"}),
        ("list_tasks", {"status": "todo"}),
    ]
    assert all(c.tool_call_id for c in calls), "ids are made up when Gemini sends none"
    (declared,) = fake_provider.requests[0].body["tools"]
    names = [f["name"] for f in declared["functionDeclarations"]]
    assert names == ["delegate", "read_task", "list_tasks"]


async def test_streams_text_deltas_then_the_response(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any, collect: Any
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
    assert sent.path == f"/v1beta/models/{MODEL}:streamGenerateContent"
    assert sent.query["alt"] == "sse"
    assert sent.stream


async def test_streams_a_tool_call(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any, tools: Any, collect: Any
) -> None:
    args = {"role": "tester", "title": "Test the export", "description": "CSV", "type": "test"}
    fake_provider.enqueue(Reply("Delegating.", [ToolCall("delegate", args)]))
    deltas, response = await collect(model.stream(ask(tools)))

    assert "".join(deltas) == "Delegating."
    (call,) = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert (call.tool_name, call.args_as_dict()) == ("delegate", args)


async def test_rate_limit_carries_retry_after(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    # Gemini says how long to wait in a google.rpc.RetryInfo, not a header.
    fake_provider.enqueue(ErrorReply(429, "Resource has been exhausted", retry_after=7))
    with pytest.raises(ModelRateLimited) as caught:
        await model.request(ask())
    assert caught.value.retryable
    assert caught.value.retry_after == 7
    assert caught.value.status_code == 429
    assert len(fake_provider.requests) == 1, "no SDK retries: the router decides"


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retryable(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any, status: int
) -> None:
    fake_provider.enqueue(ErrorReply(status, "The model is overloaded."))
    with pytest.raises(ModelUnavailable) as caught:
        await model.request(ask())
    assert caught.value.retryable
    assert caught.value.status_code == status
    assert len(fake_provider.requests) == 1


async def test_bad_key_is_rejected_and_never_shown(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(ErrorReply(401, f"API key {KEY} not valid", echo_key=True))
    with pytest.raises(ModelRequestRejected) as caught:
        await model.request(ask())
    assert caught.value.retryable is False
    assert caught.value.status_code == 401
    assert "not valid" in str(caught.value)
    rendered = "".join(traceback.format_exception(caught.value))
    assert KEY not in rendered
    assert KEY[:12] not in rendered


async def test_a_stream_cut_short_raises_our_error(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any, drain: Any
) -> None:
    fake_provider.enqueue(Drop(after_events=2, reply=Reply("one two three four five")))
    received: list[str | ModelResponse] = []
    with pytest.raises(ModelUnavailable) as caught:
        await drain(model.stream(ask()), received)
    assert received == ["one ", "two "]
    assert caught.value.retryable


async def test_the_conversation_goes_out_in_gemini_shape(
    model: GeminiModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    history = [
        ModelRequest(parts=[UserPromptPart("Design X")]),
        ModelResponse(parts=[ToolCallPart("read_task", {"task_id": "t-1"}, "call_1")]),
        ModelRequest(parts=[ToolReturnPart("read_task", '{"title": "X"}', "call_1")]),
    ]
    fake_provider.enqueue(Reply("Done."))
    await model.request(ask(messages=history))
    _, asked, answered = fake_provider.requests[0].body["contents"]
    (call,) = [p["functionCall"] for p in asked["parts"] if "functionCall" in p]
    assert (call["name"], call["args"]) == ("read_task", {"task_id": "t-1"})
    (result,) = [p["functionResponse"] for p in answered["parts"] if "functionResponse" in p]
    assert result["name"] == "read_task"

"""The Ollama adapter (kind ``ollama``) against a loopback server speaking
the OpenAI chat-completions protocol Ollama serves at ``/v1``. The adapter
for other OpenAI-compatible servers is tested in test_llm_openai_compat."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart

from swarmyard.adapters.llm import (
    ModelConfigurationError,
    ModelRateLimited,
    ModelRequestRejected,
    ModelUnavailable,
    OllamaModel,
)
from swarmyard.ports import ModelClient
from swarmyard.testing.providers import (
    Drop,
    ErrorReply,
    FakeProviderServer,
    Reply,
    ToolCall,
)

PROXY_KEY = "sk-proxy-test4f9a1c77e2b0d3secret"  # a key for a proxy in front of Ollama


@pytest.fixture
async def model(fake_provider: FakeProviderServer) -> AsyncIterator[OllamaModel]:
    client = OllamaModel(model="llama3.1", base_url=fake_provider.openai_base_url)
    yield client
    await client.aclose()


def test_implements_the_port(model: OllamaModel) -> None:
    client: ModelClient = model
    assert (client.provider, client.model_name, client.offline) == ("ollama", "llama3.1", False)


def test_needs_a_base_url_and_a_model() -> None:
    with pytest.raises(ModelConfigurationError, match="base URL"):
        OllamaModel(model="llama3.1", base_url=" ")
    with pytest.raises(ModelConfigurationError, match="model name"):
        OllamaModel(model="", base_url="http://127.0.0.1:11434/v1")


async def test_plain_answer_with_usage(
    model: OllamaModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(Reply("Fixed.", input_tokens=300, output_tokens=9, cached_tokens=256))
    response = await model.request(ask(max_tokens=256))

    assert [p.content for p in response.parts if isinstance(p, TextPart)] == ["Fixed."]
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (300, 9, 256)
    (sent,) = fake_provider.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == "llama3.1"
    assert sent.body["max_tokens"] == 256  # what Ollama understands
    assert "max_completion_tokens" not in sent.body


async def test_tool_calls_are_parsed_with_their_arguments(
    model: OllamaModel, fake_provider: FakeProviderServer, ask: Any, tools: Any
) -> None:
    fake_provider.enqueue(Reply(tool_calls=[ToolCall("read_task", {"task_id": "t-1"}, "call_x")]))
    response = await model.request(ask(tools))
    (call,) = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert (call.tool_name, call.args_as_dict(), call.tool_call_id) == (
        "read_task",
        {"task_id": "t-1"},
        "call_x",
    )


async def test_streams_text_and_a_tool_call(
    model: OllamaModel, fake_provider: FakeProviderServer, ask: Any, tools: Any, collect: Any
) -> None:
    fake_provider.enqueue(
        Reply(
            "Let me look at it.",
            [ToolCall("read_task", {"task_id": "t-9"})],
            input_tokens=40,
            output_tokens=12,
        )
    )
    deltas, response = await collect(model.stream(ask(tools, max_tokens=32)))

    assert len(deltas) > 1
    assert "".join(deltas) == "Let me look at it."
    (call,) = [p for p in response.parts if isinstance(p, ToolCallPart)]
    assert (call.tool_name, call.args_as_dict()) == ("read_task", {"task_id": "t-9"})
    assert (response.usage.input_tokens, response.usage.output_tokens) == (40, 12)
    assert fake_provider.requests[0].body["max_tokens"] == 32


async def test_rate_limit_carries_retry_after(
    model: OllamaModel, fake_provider: FakeProviderServer, ask: Any
) -> None:
    fake_provider.enqueue(ErrorReply(429, "server busy", retry_after=3))
    with pytest.raises(ModelRateLimited) as caught:
        await model.request(ask())
    assert caught.value.retryable
    assert caught.value.retry_after == 3


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retryable(
    model: OllamaModel, fake_provider: FakeProviderServer, ask: Any, status: int
) -> None:
    fake_provider.enqueue(ErrorReply(status, "model failed to load"))
    with pytest.raises(ModelUnavailable) as caught:
        await model.request(ask())
    assert caught.value.retryable
    assert caught.value.status_code == status


async def test_a_proxy_refusing_the_key_is_rejected_and_the_key_hidden(
    fake_provider: FakeProviderServer, ask: Any
) -> None:
    client = OllamaModel(
        model="llama3.1", base_url=fake_provider.openai_base_url, api_key=PROXY_KEY
    )
    fake_provider.enqueue(ErrorReply(401, "unauthorized", echo_key=True))
    try:
        with pytest.raises(ModelRequestRejected) as caught:
            await client.request(ask())
    finally:
        await client.aclose()
    assert fake_provider.requests[0].headers["authorization"] == f"Bearer {PROXY_KEY}"
    assert caught.value.retryable is False
    rendered = "".join(traceback.format_exception(caught.value))
    assert PROXY_KEY not in rendered


async def test_a_dropped_connection_is_retryable(
    model: OllamaModel, fake_provider: FakeProviderServer, ask: Any, drain: Any
) -> None:
    fake_provider.enqueue(Drop(after_events=2, reply=Reply("one two three")), Drop())
    received: list[str | ModelResponse] = []
    with pytest.raises(ModelUnavailable) as mid_stream:
        await drain(model.stream(ask()), received)
    assert received == ["one "]
    with pytest.raises(ModelUnavailable) as before_answer:
        await model.request(ask())
    assert mid_stream.value.retryable
    assert before_answer.value.retryable

"""The fake provider server itself, seen through a plain HTTP client: what it
records, which outcome answers which request, and how it fails on purpose.
(The adapter tests show that the vendors' own SDKs understand it.)"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from swarmyard.testing import FakeProviderServer as ExportedServer
from swarmyard.testing.providers import (
    Delay,
    Drop,
    ErrorReply,
    FakeProviderServer,
    RawResponse,
    Reply,
    ToolCall,
    text_pieces,
)

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
GEMINI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


@pytest.fixture
async def http(fake_provider: FakeProviderServer) -> Any:
    async with httpx.AsyncClient(base_url=fake_provider.url, timeout=5) as client:
        yield client


def sse_data(text: str) -> list[Any]:
    return [
        json.loads(line[len("data: ") :])
        for line in text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def test_is_exported_from_the_testing_package() -> None:
    assert ExportedServer is FakeProviderServer


async def test_routes_each_protocol_and_records_the_request(
    fake_provider: FakeProviderServer, http: httpx.AsyncClient
) -> None:
    fake_provider.enqueue(Reply("a"), Reply("b"), Reply("c"))
    await http.post("/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer sk-1"})
    await http.post("/v1/messages?beta=true", json=MESSAGES, headers={"x-api-key": "ant-1"})
    await http.post("/v1beta/models/gemini-2.5-flash:generateContent?key=goog-1", json=GEMINI)

    openai, anthropic, gemini = fake_provider.requests
    assert (openai.protocol, openai.model, openai.api_key, openai.stream) == (
        "openai",
        "gpt-4o",
        "sk-1",
        False,
    )
    assert (anthropic.protocol, anthropic.model, anthropic.api_key) == (
        "anthropic",
        "claude-x",
        "ant-1",
    )
    assert anthropic.query == {"beta": "true"}
    assert (gemini.protocol, gemini.model, gemini.api_key) == (
        "gemini",
        "gemini-2.5-flash",
        "goog-1",
    )
    assert gemini.body == GEMINI
    assert fake_provider.requests_for("anthropic") == [anthropic]


async def test_renders_a_reply_in_each_vendors_shape(
    fake_provider: FakeProviderServer, http: httpx.AsyncClient
) -> None:
    reply = Reply(
        "Hi.", [ToolCall("f", {"x": 1})], input_tokens=30, output_tokens=4, cached_tokens=10
    )
    fake_provider.enqueue(reply, reply, reply)

    openai = (await http.post("/v1/chat/completions", json=CHAT)).json()
    message = openai["choices"][0]["message"]
    assert message["content"] == "Hi."
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"x": 1}
    assert openai["usage"]["prompt_tokens_details"] == {"cached_tokens": 10}

    anthropic = (await http.post("/v1/messages", json=MESSAGES)).json()
    assert [b["type"] for b in anthropic["content"]] == ["text", "tool_use"]
    assert anthropic["stop_reason"] == "tool_use"
    # Anthropic counts the uncached input apart from the cache reads.
    assert (anthropic["usage"]["input_tokens"], anthropic["usage"]["cache_read_input_tokens"]) == (
        20,
        10,
    )

    gemini = (await http.post("/v1beta/models/g:generateContent", json=GEMINI)).json()
    parts = gemini["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "Hi."}, {"functionCall": {"name": "f", "args": {"x": 1}}}]
    assert gemini["usageMetadata"]["cachedContentTokenCount"] == 10


async def test_streams_server_sent_events(
    fake_provider: FakeProviderServer, http: httpx.AsyncClient
) -> None:
    reply = Reply("one two three", input_tokens=9, output_tokens=3)
    fake_provider.enqueue(reply, reply, reply)

    chat = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    chunks = sse_data((await http.post("/v1/chat/completions", json=chat)).text)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "one two three"
    assert chunks[-1]["usage"]["completion_tokens"] == 3

    response = await http.post("/v1/messages", json={**MESSAGES, "stream": True})
    names = [
        line[len("event: ") :] for line in response.text.splitlines() if line.startswith("event: ")
    ]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_delta") == len(text_pieces("one two three"))

    gemini = await http.post("/v1beta/models/g:streamGenerateContent?alt=sse", json=GEMINI)
    chunks = sse_data(gemini.text)
    assert len(chunks) == 3
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 3


async def test_a_protocols_own_queue_comes_before_the_shared_one(
    fake_provider: FakeProviderServer, http: httpx.AsyncClient
) -> None:
    fake_provider.enqueue(Reply("shared"))
    fake_provider.enqueue(Reply("for anthropic"), protocol="anthropic")
    assert (fake_provider.pending(), fake_provider.pending("anthropic")) == (1, 1)

    anthropic = (await http.post("/v1/messages", json=MESSAGES)).json()
    openai = (await http.post("/v1/chat/completions", json=CHAT)).json()
    assert anthropic["content"][0]["text"] == "for anthropic"
    assert openai["choices"][0]["message"]["content"] == "shared"
    assert (fake_provider.pending(), fake_provider.pending("anthropic")) == (0, 0)


async def test_without_an_outcome_it_answers_500_or_the_default(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 500
    assert "no answer queued" in response.json()["error"]["message"]

    async with (
        FakeProviderServer(default=Reply("always")) as fake,
        httpx.AsyncClient(base_url=fake.url) as client,
    ):
        for _ in range(2):
            body = (await client.post("/v1/chat/completions", json=CHAT)).json()
            assert body["choices"][0]["message"]["content"] == "always"


async def test_errors_in_each_vendors_shape(
    fake_provider: FakeProviderServer, http: httpx.AsyncClient
) -> None:
    fake_provider.enqueue(*[ErrorReply(429, "slow down", retry_after=7, echo_key=True)] * 3)
    headers = {"Authorization": "Bearer sk-echo", "x-goog-api-key": "goog-echo"}

    openai = await http.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert openai.status_code == 429
    assert openai.headers["retry-after"] == "7"
    assert openai.json()["error"]["code"] == "rate_limit_exceeded"
    assert "sk-echo" in openai.json()["error"]["message"]

    anthropic = await http.post("/v1/messages", json=MESSAGES, headers={"x-api-key": "ant-echo"})
    assert anthropic.json()["error"] == {
        "type": "rate_limit_error",
        "message": "slow down (the key sent was ant-echo)",
    }

    gemini = await http.post("/v1beta/models/g:generateContent", json=GEMINI, headers=headers)
    error = gemini.json()["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["details"][0]["retryDelay"] == "7s"
    assert "retry-after" not in gemini.headers


async def test_raw_responses_are_sent_verbatim(
    fake_provider: FakeProviderServer, http: httpx.AsyncClient
) -> None:
    fake_provider.enqueue(
        RawResponse({"unexpected": "shape"}, headers={"x-extra": "1"}),
        RawResponse("<html>Bad gateway</html>", status=502),
    )
    first = await http.post("/v1/chat/completions", json=CHAT)
    assert (first.json(), first.headers["x-extra"]) == ({"unexpected": "shape"}, "1")
    second = await http.post("/v1/chat/completions", json=CHAT)
    assert (second.status_code, second.text) == (502, "<html>Bad gateway</html>")


async def test_drop_hangs_up(fake_provider: FakeProviderServer, http: httpx.AsyncClient) -> None:
    fake_provider.enqueue(Drop(), Drop(after_events=2, reply=Reply("a b c d")))
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v1/chat/completions", json=CHAT)
    received: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError):
        await read_stream(http, {**CHAT, "stream": True}, received)
    chunks = sse_data(b"".join(received).decode())
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == ["", "a "]


async def read_stream(http: httpx.AsyncClient, body: dict[str, Any], into: list[bytes]) -> None:
    async with http.stream("POST", "/v1/chat/completions", json=body) as response:
        async for chunk in response.aiter_raw():
            into.append(chunk)


async def test_unknown_paths_are_404_and_not_recorded(
    fake_provider: FakeProviderServer, http: httpx.AsyncClient
) -> None:
    assert (await http.post("/v1/embeddings", json={})).status_code == 404
    assert (await http.get("/v1/chat/completions")).status_code == 404
    assert fake_provider.requests == []


async def test_leaving_cuts_a_delay_short() -> None:
    async with FakeProviderServer() as fake:
        fake.enqueue(Delay(30, Reply("late")))
        client = httpx.AsyncClient(base_url=fake.url, timeout=10)
        pending = asyncio.create_task(client.post("/v1/chat/completions", json=CHAT))
        async with asyncio.timeout(5):
            await fake.wait_for_requests(1)  # it has reached the server and is waiting
        started = time.monotonic()
    response = await pending
    await client.aclose()
    assert response.json()["choices"][0]["message"]["content"] == "late"
    assert time.monotonic() - started < 5


def test_usage_must_add_up() -> None:
    with pytest.raises(ValueError, match="cached_tokens"):
        Reply("x", input_tokens=5, cached_tokens=6)
    with pytest.raises(ValueError, match="negative"):
        Reply("x", output_tokens=-1)

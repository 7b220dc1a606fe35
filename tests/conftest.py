"""Shared fixtures: an embedded platform (container with its loops running) and a
loopback server that speaks the OpenAI chat-completions wire protocol."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store.testing import PostgresUnavailable, find_postgres
from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings
from swarmyard.testing.providers import FakeProviderServer, RawResponse
from swarmyard.testing.skips import unavailable

T = TypeVar("T")

# With the `local` extra installed, every platform a test starts (and every
# `swarmyard` process it spawns) would run the local model as the last step
# of its chains; tests of the local tier ask for it by name.
os.environ.setdefault("SWARMYARD_LOCAL_MODEL", "off")


def run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion away from the tests' event loops."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    """The test machine's PostgreSQL; skips without it, unless
    SWARMYARD_REQUIRE_SERVICES=1 makes its absence a failure."""
    try:
        return run_in_thread(find_postgres())
    except PostgresUnavailable as exc:
        unavailable(str(exc))


@pytest.fixture(scope="session")
def nats_server() -> str:
    """The test machine's NATS server (with JetStream); skips without it,
    unless SWARMYARD_REQUIRE_SERVICES=1 makes its absence a failure."""
    from swarmyard.adapters.bus.testing import NatsUnavailable, find_nats

    try:
        url: str = run_in_thread(find_nats())
    except NatsUnavailable as exc:
        unavailable(str(exc))
    return url


@pytest.fixture(scope="session")
def local_model_file() -> Path:
    """The packaged small model, with llama.cpp's server to run it (the
    `local` extra); skips without them, unless SWARMYARD_REQUIRE_SERVICES=1
    makes their absence a failure."""
    from swarmyard.adapters.llm.local import default_model, missing_server_modules

    missing = missing_server_modules()
    model = default_model()
    if missing or model is None:
        what = (
            f"llama.cpp's server (missing {', '.join(missing)})" if missing else "no packaged model"
        )
        reason = f"{what}: pip install -e '.[local]' to run the local model's tests"
        unavailable(reason)
    return model.path


@pytest.fixture(name="run_in_thread", scope="session")
def run_in_thread_fixture() -> Callable[..., Any]:
    return run_in_thread


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Container]:
    container = build(embedded_settings(tmp_path))
    await container.start()
    try:
        yield container
    finally:
        await asyncio.wait_for(container.stop(grace=5.0), 30)


@pytest.fixture(name="completion")
def completion_fixture() -> Callable[..., dict[str, Any]]:
    return completion


# --------------------------------------------------------------------------- wire server


class ChatServer:
    """The OpenAI-compatible face of `FakeProviderServer`: queue chat-completion
    bodies verbatim (`reply`), read back each request's JSON and headers."""

    def __init__(self, fake: FakeProviderServer) -> None:
        self.fake = fake

    @property
    def base_url(self) -> str:
        return self.fake.openai_base_url

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [r.body for r in self.fake.requests]

    @property
    def headers(self) -> list[dict[str, str]]:
        return [dict(r.headers) for r in self.fake.requests]

    @property
    def delay(self) -> float:
        """Seconds before answering each request, to provoke client timeouts."""
        return self.fake.latency

    @delay.setter
    def delay(self, seconds: float) -> None:
        self.fake.latency = seconds

    def reply(
        self, body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.fake.enqueue(RawResponse(body, status, headers or {}), protocol="openai")


def completion(
    content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    *,
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    model: str = "llama3.1",
) -> dict[str, Any]:
    """A chat.completion body, as OpenAI (and Ollama, vLLM, ...) send it."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
            }
            for call in tool_calls
        ]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


@pytest.fixture
async def chat_server() -> AsyncIterator[ChatServer]:
    async with FakeProviderServer() as fake:
        yield ChatServer(fake)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port

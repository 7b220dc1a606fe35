"""Shared fixtures: an embedded platform (container with its loops running) and a
loopback server that speaks the OpenAI chat-completions wire protocol."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from sqlalchemy.engine import URL
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from swarmyard.adapters.store.testing import PostgresUnavailable, find_postgres
from swarmyard.runtime.wiring import Container, build
from swarmyard.testing import embedded_settings

T = TypeVar("T")


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
        if os.environ.get("SWARMYARD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{exc}; SWARMYARD_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(str(exc))


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


@dataclass
class ChatServer:
    """A loopback OpenAI-compatible server: answers POST /v1/chat/completions
    with the queued replies (status, JSON body) and records every request."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering, to provoke client timeouts

    def reply(
        self, body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.replies.append((status, body, headers or {}))

    async def _chat(self, request: Request) -> JSONResponse:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.replies:
            return JSONResponse({"error": {"message": "no reply queued"}}, status_code=500)
        status, body, headers = self.replies.pop(0)
        return JSONResponse(body, status_code=status, headers=headers)


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
    state = ChatServer()
    app = Starlette(routes=[Route("/v1/chat/completions", state._chat, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.005)
        if task.done():
            task.result()
    state.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield state
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port

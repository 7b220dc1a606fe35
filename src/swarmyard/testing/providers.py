"""A loopback server that speaks the model vendors' real wire protocols.

Tests of model adapters, benchmarks of the router and people checking their
setup without spending tokens all need a provider whose answers are known in
advance and whose failures can be provoked on purpose. `FakeProviderServer`
is one: the official SDKs talk to it exactly as they talk to the vendors
(same paths, same JSON, same server-sent events, same error bodies), so what
works against it exercises the real client code end to end.

It serves, on one port:
- OpenAI chat completions: ``POST /v1/chat/completions`` (also what Ollama,
  vLLM and other OpenAI-compatible servers speak);
- Anthropic Messages: ``POST /v1/messages``;
- Gemini: ``POST /v1beta/models/{model}:generateContent`` and
  ``:streamGenerateContent?alt=sse``.

Script it with outcomes, queued per protocol or for any protocol::

    async with FakeProviderServer() as fake:
        fake.enqueue(Reply("Hello", input_tokens=12, output_tokens=2))
        fake.enqueue(ErrorReply(429, retry_after=7), protocol="anthropic")
        client = AsyncOpenAI(base_url=fake.openai_base_url, api_key="sk-test")
        ...
        assert fake.requests[0].api_key == "sk-test"

A request takes the next outcome queued for its protocol, else the next
queued for any protocol, else `default`; with none of those it gets a 500
saying nothing was queued, so a test that forgot one fails loudly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from typing import Any, Protocol, Self
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from . import _wire_anthropic, _wire_gemini, _wire_openai
from ._outcomes import (
    Delay,
    Drop,
    ErrorReply,
    Outcome,
    RawResponse,
    RecordedRequest,
    Reply,
    ToolCall,
    WireProtocol,
    text_pieces,
)
from .loopback_asgi import LoopbackAsgi

__all__ = [
    "Delay",
    "Drop",
    "ErrorReply",
    "FakeProviderServer",
    "Outcome",
    "RawResponse",
    "RecordedRequest",
    "Reply",
    "ToolCall",
    "WireProtocol",
    "text_pieces",
]

_GEMINI_PATH = re.compile(
    r"/models/(?P<model>[^/:]+):(?P<action>generateContent|streamGenerateContent)$"
)


class _Renderer(Protocol):
    """One protocol's wire format (the `_wire_*` modules)."""

    def answer(self, reply: Reply, model: str, serial: int) -> dict[str, Any]: ...
    def events(
        self, reply: Reply, model: str, serial: int, request: RecordedRequest
    ) -> list[bytes]: ...
    def error(self, failure: ErrorReply, message: str) -> tuple[dict[str, Any], dict[str, str]]: ...


_RENDERERS: dict[WireProtocol, _Renderer] = {
    "openai": _wire_openai,
    "anthropic": _wire_anthropic,
    "gemini": _wire_gemini,
}


class FakeProviderServer:
    """OpenAI, Anthropic and Gemini on a loopback port, answering from a script.

    Use it as an async context manager in a running event loop: entering
    starts uvicorn on `host` and `port` (0: an ephemeral port, read back
    from `port` and the `*_url` properties), leaving stops it and cuts
    pending `Delay`s short. `latency` (seconds) is waited
    before every answer, e.g. to make benchmarks see network time; `default`
    answers requests nothing was queued for.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Outcome | None = None,
        latency: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.default = default
        self.latency = latency
        self.requests: list[RecordedRequest] = []
        self._queues: dict[WireProtocol | None, deque[Outcome]] = {}
        self._serial = 0
        self._closing = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._serving: LoopbackAsgi | None = None

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The server's root, ``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The ``base_url`` for OpenAI SDK clients (and OpenAI-compatible ones)."""
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The ``base_url`` for Anthropic SDK clients (they add ``/v1/messages``)."""
        return self.url

    @property
    def gemini_base_url(self) -> str:
        """The ``base_url`` for google-genai clients (they add ``/v1beta/models/…``)."""
        return self.url

    # ------------------------------------------------------------------ scripting

    def enqueue(self, *outcomes: Outcome, protocol: WireProtocol | None = None) -> None:
        """Queue answers, in order, for one protocol or (None) for any."""
        self._queues.setdefault(protocol, deque()).extend(outcomes)

    def pending(self, protocol: WireProtocol | None = None) -> int:
        """How many queued answers are still unused, for one protocol or for any."""
        return len(self._queues.get(protocol, ()))

    def clear(self) -> None:
        """Forget queued answers and recorded requests (reusing one server)."""
        self._queues.clear()
        self.requests.clear()

    def requests_for(self, protocol: WireProtocol) -> list[RecordedRequest]:
        return [r for r in self.requests if r.protocol == protocol]

    async def wait_for_requests(self, count: int = 1) -> list[RecordedRequest]:
        """Wait until `count` requests have arrived (e.g. one being held by a
        `Delay`), and return them. Bound it with `asyncio.timeout`."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests[:count]

    def _next(self, protocol: WireProtocol) -> Outcome | None:
        for key in (protocol, None):
            queue = self._queues.get(key)
            if queue:
                return queue.popleft()
        return self.default

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        self._closing = asyncio.Event()
        self._serving = LoopbackAsgi(
            self._http,
            name="the fake provider server",
            host=self.host,
            port=self.port,
            # A request still being answered on leaving, one `_closing` does
            # not cut short, is cancelled after this: leaving cannot hang.
            timeout_graceful_shutdown=5,
        )
        self.port = await self._serving.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Before stopping: uvicorn waits for requests in progress, and those
        # held by `latency` or a `Delay` end only when this is set.
        self._closing.set()
        if self._serving is not None:
            await self._serving.stop()

    # ------------------------------------------------------------------ ASGI

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await _read_body(receive)
        request = _record(scope, raw)
        if request is None:
            await _send_json(send, 404, {"error": {"message": "no such endpoint"}})
            return
        async with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()
        self._serial += 1
        serial = self._serial
        await self._pause(self.latency)
        outcome = self._next(request.protocol)
        if isinstance(outcome, Delay):
            await self._pause(outcome.seconds)
            outcome = outcome.then
        await self._answer(outcome, request, serial=serial, scope=scope, receive=receive, send=send)

    async def _answer(
        self,
        outcome: Reply | ErrorReply | RawResponse | Drop | None,
        request: RecordedRequest,
        *,
        serial: int,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        renderer = _RENDERERS[request.protocol]
        model = request.model
        if outcome is None:
            message = "the fake provider has no answer queued for this request"
            outcome = ErrorReply(500, message)
        if isinstance(outcome, Reply):
            model = outcome.model or model
            if request.stream:
                frames = renderer.events(outcome, model, serial, request)
                await _send_events(send, frames)
            else:
                await _send_json(send, 200, renderer.answer(outcome, model, serial))
        elif isinstance(outcome, ErrorReply):
            message = outcome.message
            if outcome.echo_key and request.api_key:
                message += f" (the key sent was {request.api_key})"
            body, headers = renderer.error(outcome, message)
            await _send_json(send, outcome.status, body, {**headers, **outcome.headers})
        elif isinstance(outcome, RawResponse):
            await _send_json(send, outcome.status, outcome.body, dict(outcome.headers))
        else:
            frames = renderer.events(outcome.reply, model, serial, request)
            if request.stream and outcome.after_events:
                await _send_events(send, frames[: outcome.after_events], finished=False)
            await self._hang_up(scope, receive)

    async def _pause(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()

    async def _hang_up(self, scope: Scope, receive: Receive) -> None:
        """Close the connection without finishing the response (no 500 page,
        no final chunk): the client sees the peer vanish mid-exchange."""
        assert self._serving is not None
        client = scope.get("client")
        for connection in list(self._serving.server.server_state.connections):
            if getattr(connection, "client", None) == client:
                connection.transport.abort()
        # Return once uvicorn has seen the connection go, so it does not
        # complain about a response that was never finished.
        while (await receive())["type"] != "http.disconnect":
            continue


def _record(scope: Scope, raw: bytes) -> RecordedRequest | None:
    path: str = scope["path"]
    if scope["method"] != "POST":
        return None
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = None
    fields: dict[str, Any] = body if isinstance(body, dict) else {}
    protocol: WireProtocol
    if path.endswith("/chat/completions"):
        protocol, model, stream = "openai", fields.get("model", ""), fields.get("stream") is True
    elif path.endswith("/messages"):
        protocol, model, stream = "anthropic", fields.get("model", ""), fields.get("stream") is True
    elif match := _GEMINI_PATH.search(path):
        protocol, model = "gemini", match["model"]
        stream = match["action"] == "streamGenerateContent"
    else:
        return None
    return RecordedRequest(
        protocol=protocol,
        path=path,
        query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
        headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
        body=body,
        model=str(model),
        stream=stream,
    )


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send_json(
    send: Send, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    if isinstance(body, str):
        payload, content_type = body.encode(), "text/plain; charset=utf-8"
    else:
        payload, content_type = json.dumps(body).encode(), "application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": _headers({"content-type": content_type, **(headers or {})}),
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _send_events(send: Send, frames: list[bytes], *, finished: bool = True) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": _headers({"content-type": "text/event-stream", "cache-control": "no-cache"}),
        }
    )
    for frame in frames:
        await send({"type": "http.response.body", "body": frame, "more_body": True})
    if finished:
        await send({"type": "http.response.body", "body": b""})


def _headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

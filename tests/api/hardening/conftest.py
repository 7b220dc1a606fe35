"""A small FastAPI app shaped like the real API (health outside /api/v1, a sign-in
route, an authenticated route, an SSE stream, a WebSocket), hardened the way
`create_app` hardens the real one, and clients that appear to come from any
address."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI, Header, Request, Response, WebSocket
from fastapi.responses import JSONResponse, StreamingResponse

from swarmyard.api.errors import install_error_handlers
from swarmyard.api.hardening import HardeningConfig, RateLimits, install_hardening

BIG_ITEMS = [{"id": i, "title": f"card number {i}", "status": "todo"} for i in range(200)]


@dataclass
class Harness:
    app: FastAPI
    sse_gate: asyncio.Event

    @property
    def limits(self) -> RateLimits:
        limits: RateLimits = self.app.state.limits
        return limits

    def client(self, ip: str = "10.0.0.1", **headers: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers)


async def principal(request: Request, x_actor: Annotated[str, Header()]) -> str:
    # Stands in for the real `authenticated` dependency: identify, then count.
    request.app.state.limits.check_principal(x_actor)
    return x_actor


def build_app(config: HardeningConfig) -> Harness:
    app = FastAPI(docs_url="/api/v1/docs", openapi_url="/api/v1/openapi.json")
    gate = asyncio.Event()
    install_error_handlers(app)

    for path in ("/healthz", "/readyz", "/metrics"):
        app.add_api_route(path, lambda: {"status": "ok"}, methods=["GET"])

    @app.get("/api/v1/things")
    async def things() -> dict[str, str]:
        return {"thing": "small"}

    @app.get("/api/v1/big")
    async def big() -> dict[str, object]:
        return {"items": BIG_ITEMS}

    @app.post("/api/v1/auth/token")
    async def token() -> dict[str, str]:
        return {"access_token": "t"}

    @app.get("/api/v1/me")
    @app.get("/api/v1/auth/me")
    async def me(actor: Annotated[str, Depends(principal)]) -> dict[str, str]:
        return {"actor": actor}

    @app.get("/api/v1/own-headers")
    async def own_headers() -> Response:
        return JSONResponse(
            {"ok": True},
            headers={
                "X-Frame-Options": "SAMEORIGIN",
                "Cache-Control": "max-age=60",
                "Content-Security-Policy": "default-src 'none'",
            },
        )

    @app.get("/page")
    async def page() -> Response:
        return Response("<p>hi</p>", media_type="text/html")

    @app.get("/api/v1/events")
    async def events() -> StreamingResponse:
        async def frames() -> AsyncIterator[bytes]:
            # Padded past the gzip threshold so that size alone would not spare it.
            yield b"event: first\ndata: " + b"x" * 2048 + b"\n\n"
            await gate.wait()
            yield b"event: second\ndata: 2\n\n"

        return StreamingResponse(frames(), media_type="text/event-stream")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"hello": "world"})
        await websocket.close()

    install_hardening(app, config)
    return Harness(app, gate)


@pytest.fixture
def harden() -> Callable[..., Harness]:
    """`harden(rate_limits=RateLimitConfig(...), cors_origins=[...])` → a fresh app."""

    def make(**overrides: Any) -> Harness:
        return build_app(HardeningConfig(**overrides))

    return make


@dataclass
class LiveServer:
    base_url: str


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[FastAPI], LiveServer]]:
    """Serve an app with uvicorn on loopback: real sockets, real chunked streaming."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None], socket.socket]] = []

    def start(app: FastAPI) -> LiveServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        # Listening now means a client may connect at once: the kernel queues
        # the connection until uvicorn accepts it, so nobody waits for startup.
        sock.listen(16)
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        servers.append((server, task, sock))
        return LiveServer(f"http://127.0.0.1:{sock.getsockname()[1]}")

    yield start
    for server, task, sock in servers:
        server.should_exit = True
        await task
        sock.close()

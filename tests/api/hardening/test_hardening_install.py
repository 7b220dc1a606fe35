"""The installed stack: gzip for large JSON but never for SSE (which must keep
streaming event by event), CORS only when asked, and the order that lets a
browser read a 429."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
from fastapi import FastAPI

from swarmyard.api.hardening import RateLimitConfig

if TYPE_CHECKING:
    from conftest import Harness, LiveServer

Harden = Callable[..., "Harness"]
Serve = Callable[[FastAPI], "LiveServer"]

ORIGIN = "https://board.example.com"


async def test_large_json_is_gzipped_small_json_is_not(harden: Harden) -> None:
    async with harden().client(**{"Accept-Encoding": "gzip"}) as client:
        big = await client.get("/api/v1/big")
        small = await client.get("/api/v1/things")
    assert big.headers["Content-Encoding"] == "gzip"
    # httpx decodes transparently: the wire length is what shows compression
    assert int(big.headers["Content-Length"]) < len(big.content) // 2
    assert len(big.json()["items"]) == 200
    assert "Content-Encoding" not in small.headers


async def test_sse_streams_event_by_event_and_uncompressed(harden: Harden, serve: Serve) -> None:
    h = harden()
    server = serve(h.app)
    async with (
        httpx.AsyncClient(base_url=server.base_url) as client,
        client.stream("GET", "/api/v1/events", headers={"Accept-Encoding": "gzip"}) as r,
    ):
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        assert "Content-Encoding" not in r.headers
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-RateLimit-Limit"] == "300"
        raw = r.aiter_raw()
        received = b""
        # The endpoint holds the second event until the gate opens, so the
        # first one arrives now or the stack is buffering; fail fast if so.
        async with asyncio.timeout(10):
            while b"\n\n" not in received:
                received += await anext(raw)
        assert received.startswith(b"event: first\n")
        assert b"second" not in received
        h.sse_gate.set()
        async for chunk in raw:
            received += chunk
    assert received.endswith(b"event: second\ndata: 2\n\n")


async def test_cors_is_off_by_default(harden: Harden) -> None:
    async with harden().client(Origin=ORIGIN) as client:
        preflight = await client.options(
            "/api/v1/things", headers={"Access-Control-Request-Method": "GET"}
        )
        simple = await client.get("/api/v1/things")
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in simple.headers


async def test_cors_answers_configured_origins_only(harden: Harden) -> None:
    h = harden(cors_origins=[ORIGIN])
    async with h.client() as client:
        preflight = await client.options(
            "/api/v1/things",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, idempotency-key",
            },
        )
        simple = await client.get("/api/v1/things", headers={"Origin": ORIGIN})
        stranger = await client.get("/api/v1/things", headers={"Origin": "https://evil.example"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert simple.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-RateLimit-Remaining" in simple.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in stranger.headers


async def test_a_browser_can_read_a_429(harden: Harden) -> None:
    h = harden(cors_origins=[ORIGIN], rate_limits=RateLimitConfig(per_ip="1/minute"))
    async with h.client(Origin=ORIGIN) as client:
        assert (await client.get("/api/v1/things")).status_code == 200
        # preflights are answered before the limiter and spend nothing
        preflight = await client.options(
            "/api/v1/things", headers={"Access-Control-Request-Method": "GET"}
        )
        assert preflight.status_code == 200
        refused = await client.get("/api/v1/things")
    assert refused.status_code == 429
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]

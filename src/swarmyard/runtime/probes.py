"""/healthz and /readyz for processes that serve no HTTP API (worker, scheduler).

Kubernetes probes need an HTTP endpoint; a worker or scheduler has no web
application to put it in, and pulling one in for two routes would cost
more than the routes. This is a minimal HTTP/1.1 responder on asyncio
streams: GET only, no keep-alive, a small JSON body.

`/healthz` (liveness) says the event loop answers; it does not look at the
database, since restarting a process does not mend a database outage.
`/readyz` (readiness) asks the process's `ready()` check.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

__all__ = ["ProbeServer", "Readiness"]

log = structlog.get_logger("swarmyard.probes")

# (ready, details): details land in the JSON body of both endpoints.
Readiness = Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]

_REQUEST_LIMIT = 8192
_READ_SECONDS = 5.0
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class ProbeServer:
    def __init__(self, ready: Readiness, *, process: str) -> None:
        self._ready = ready
        self._process = process
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; the bound port (useful when `port` is 0). OSError if taken."""
        self._server = await asyncio.start_server(self._handle, host, port)
        bound: int = self._server.sockets[0].getsockname()[1]
        log.info("health endpoint listening", host=host, port=bound)
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            status, body = await self._answer(head)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            status, body = 400, {"status": "bad request"}
        except ConnectionError:
            writer.close()
            return
        payload = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Bad Request')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + payload
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _answer(self, head: bytes) -> tuple[int, dict[str, Any]]:
        if len(head) > _REQUEST_LIMIT:
            return 400, {"status": "bad request"}
        method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
        path = rest.split(" ", 1)[0].split("?", 1)[0]
        if path not in ("/healthz", "/readyz"):
            return 404, {"status": "not found"}
        if method != "GET":
            return 405, {"status": "method not allowed"}
        if path == "/healthz":
            return 200, {"status": "ok", "process": self._process}
        try:
            ready, details = await self._ready()
        except Exception as exc:
            return 503, {"status": "unavailable", "reason": type(exc).__name__}
        body = {"status": "ready" if ready else "unavailable", "process": self._process}
        return (200 if ready else 503), {**body, **details}

"""A loopback web site and a connection counter, for testing the fetcher and its tools.

`LoopbackSite` is a tiny HTTP/1.1 server on 127.0.0.1 with the pages a fetch
test needs (text, a large body, a slow one, redirects, an echo of the
request); it counts the connections it accepted. `CountingBackend` wraps
httpcore's network backend and counts (and records) every connection the
fetcher opens, which is how a test shows a refusal happened before any
connection: the count stays at zero.

    async with LoopbackSite() as site:
        fetcher = SafeHttpFetcher(rules=EgressRules.parse(["127.0.0.1"]),
                                  network_backend=CountingBackend())
        result = await fetcher.fetch(site.url("/hello"))
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

import httpcore

__all__ = ["BIG_BYTES", "HELLO", "CountingBackend", "LoopbackSite"]

HELLO = "hello from the loopback site"
BIG_BYTES = 4 << 20  # /big sends this many bytes (more than any cap a test sets)
_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class CountingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, counting connections: `connects` lists (host, port)."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()
        self.connects: list[tuple[str, int]] = []

    @property
    def count(self) -> int:
        return len(self.connects)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        return await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class LoopbackSite:
    """Pages: /hello (text), /big (BIG_BYTES of "x"), /slow (a byte every
    0.2 s for a minute), /redirect?to=URL (302; &status=N for another code),
    /echo (the request line and headers as JSON), /binary (PNG bytes)."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self.port = 0
        self.connections = 0
        self.requests: list[dict[str, object]] = []

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = dict(
                (k.strip().lower(), v.strip())
                for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)
            )
            length = int(headers.get("content-length") or 0)
            body = await reader.readexactly(length) if length else b""
            self.requests.append(
                {"method": method, "target": target, "headers": headers, "body": body.decode()}
            )
            await self._answer(writer, method, target, headers, body)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass  # the client went away (a cap or a timeout of the test)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/hello":
            await _send(writer, 200, HELLO.encode(), "text/plain; charset=utf-8")
        elif path == "/binary":
            await _send(writer, 200, b"\x89PNG\r\n\x1a\n" + bytes(256), "image/png")
        elif path == "/echo":
            echo = {"method": method, "target": target, "headers": headers, "body": body.decode()}
            await _send(writer, 200, json.dumps(echo).encode(), "application/json")
        elif path == "/redirect":
            status = int(query.get("status", "302"))
            await _send(writer, status, b"", "text/plain", location=query.get("to", "/hello"))
        elif path == "/big":
            await _stream(writer, (b"x" * 65536 for _ in range(BIG_BYTES // 65536)), BIG_BYTES)
        elif path == "/slow":
            await _stream_slowly(writer)
        else:
            await _send(writer, 404, b"not found", "text/plain")


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str,
    *,
    location: str | None = None,
) -> None:
    head = [
        f"HTTP/1.1 {status} X",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if location is not None:
        head.append(f"Location: {location}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


async def _stream(writer: asyncio.StreamWriter, chunks: Iterable[bytes], length: int) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n\r\n"
    writer.write(head.encode())
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()


async def _stream_slowly(writer: asyncio.StreamWriter) -> None:
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 300\r\n\r\n"
    writer.write(head.encode())
    for _ in range(300):
        writer.write(b".")
        await writer.drain()
        await asyncio.sleep(0.2)

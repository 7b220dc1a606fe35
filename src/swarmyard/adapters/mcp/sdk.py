"""The MCP connector over the official `mcp` SDK: stdio child processes and
streamable HTTP endpoints.

The SDK's client lives inside anyio task groups, which one task must enter
and leave. Each session therefore has an owner task that opens the client,
reports ready and waits until it is told to stop; requests come from any
task through the client's streams. When the connection ends by itself (the
child exited, the HTTP transport failed) the session says `closed`, and
every request fails at once with `McpUnavailable(lost=True)`.

An HTTP endpoint is held to the egress rules of the fetcher before anything
is sent: its name is resolved and every address checked, and the session's
HTTP client connects to those addresses only (`PinnedTransport`). A refused
endpoint is `McpUnavailable` naming the rule; nothing was connected.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpcore2
import httpx2
import mcp_types as types
from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT
from pydantic import ValidationError

from mcp import Client
from mcp.client._transport import TransportStreams
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from ... import __version__
from ...domain.mcp import McpTransport
from ...ports.mcp import McpCallResult, McpEndpoint, McpRequestFailed, McpToolInfo, McpUnavailable
from ...ports.net import FetchError
from ..net import EgressGuard, PinnedTransport
from ._content import render_block
from ._errors import cause, describe
from ._stderr import StderrTail
from ._transports import http_transport, watched

__all__ = ["SdkMcpConnector", "SdkMcpSession"]

# A server listing more pages than this is taken to loop.
_MAX_PAGES = 50
# The SDK stops a stdio child in steps (close stdin, wait, terminate, kill),
# each bounded; this is the whole of it with room to spare.
_STOP_SECONDS = 15.0
# The SDK's own per-request timeout answers first (and tells the server to
# cancel); ours only catches what it would miss.
_BACKSTOP_SECONDS = 2.0
_SETTLE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _HttpRoute:
    url: str  # the endpoint as checked, rebuilt from its parts
    transport: PinnedTransport


class SdkMcpConnector:
    """`egress` judges HTTP endpoints (public addresses only by default);
    `network_backend` opens their connections (tests count them)."""

    def __init__(
        self,
        *,
        client_name: str = "swarmyard",
        egress: EgressGuard | None = None,
        network_backend: httpcore2.AsyncNetworkBackend | None = None,
    ) -> None:
        self._info = types.Implementation(name=client_name, version=__version__)
        self._egress = egress or EgressGuard()
        self._backend = network_backend

    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        """One for every endpoint: loading the CA bundle blocks for tens of milliseconds."""
        return httpx2.create_ssl_context()

    async def connect(self, endpoint: McpEndpoint, *, timeout: float) -> SdkMcpSession:
        route = None
        if endpoint.transport is McpTransport.HTTP:
            route = await self._route(endpoint, timeout)
        session = SdkMcpSession(endpoint, self._info, route)
        await session.start(timeout)
        return session

    async def _route(self, endpoint: McpEndpoint, timeout: float) -> _HttpRoute:
        label = endpoint.label or "the MCP server"
        assert endpoint.url is not None
        transport = PinnedTransport(
            self._egress, network_backend=self._backend, ssl_context=self._tls
        )
        try:
            async with asyncio.timeout(timeout):
                target = await transport.pin(endpoint.url)
        except TimeoutError:
            raise McpUnavailable(
                f"{label}: its host did not resolve within {timeout:g}s", timed_out=True
            ) from None
        except FetchError as exc:
            raise McpUnavailable(f"{label}: {exc.message}") from None
        # The SDK's client gets the URL as it was checked: a second parser
        # must not read another host out of the text.
        return _HttpRoute(target.url, transport)


class SdkMcpSession:
    def __init__(
        self,
        endpoint: McpEndpoint,
        client_info: types.Implementation,
        route: _HttpRoute | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._route = route
        self._label = endpoint.label or "the MCP server"
        self._info = client_info
        self._client: Client | None = None
        self._stop = asyncio.Event()
        self._ended = asyncio.Event()
        self._stream_ended = False
        self._failure: BaseException | None = None
        self._stderr: StderrTail | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def closed(self) -> bool:
        return self._stream_ended or self._ended.is_set() or self._stop.is_set()

    async def start(self, timeout: float) -> None:
        if self._endpoint.transport is McpTransport.STDIO:
            self._stderr = StderrTail()
            await self._stderr.start()
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._own(ready, timeout), name=f"mcp {self._label}")
        try:
            await asyncio.wait_for(ready, timeout)  # cancels `ready` when it times out
        except TimeoutError:
            await self.aclose()
            message = f"{self._label} did not complete the MCP handshake within {timeout:g}s"
            raise McpUnavailable(self._with_stderr(message), timed_out=True) from None
        except BaseException:
            await self.aclose()
            raise

    async def _own(self, ready: asyncio.Future[None], timeout: float) -> None:
        try:
            async with self._open(timeout) as client:
                if self._stderr is not None:
                    self._stderr.close_writer()  # the child holds its own copy now
                self._client = client
                if not ready.done():
                    ready.set_result(None)
                await self._stop.wait()
        except Exception as exc:
            self._failure = exc
            if not ready.done():
                root, why = cause(exc), describe(exc)
                if isinstance(root, MCPError) and root.code == CONNECTION_CLOSED:
                    why = "the server closed the connection (or exited) during the MCP handshake"
                ready.set_exception(McpUnavailable(self._with_stderr(f"{self._label}: {why}")))
        finally:
            self._client = None
            if self._stderr is not None:
                self._stderr.close_writer()
            if not ready.done():
                ready.cancel()
            self._ended.set()

    def _open(self, timeout: float) -> Client:
        e = self._endpoint
        transport: AbstractAsyncContextManager[TransportStreams]
        if e.transport is McpTransport.STDIO:
            assert e.command is not None
            assert self._stderr is not None
            # The SDK passes on only a few harmless variables of ours (PATH,
            # HOME, ...), never the platform's own secrets, then adds these.
            params = StdioServerParameters(command=e.command, args=list(e.args), env=dict(e.env))
            transport = stdio_client(params, errlog=self._stderr.writer)
        else:
            route = self._route
            assert route is not None
            transport = http_transport(
                route.url, e.headers, connect_timeout=timeout, transport=route.transport
            )
        # The gateway caches what it lists itself; the SDK's cache would only hide changes.
        return Client(
            watched(transport, self._stream_end), cache=None, client_info=self._info, mode="auto"
        )

    def _stream_end(self) -> None:
        self._stream_ended = True

    async def list_tools(self, *, timeout: float) -> list[McpToolInfo]:
        client = self._live()
        tools: list[McpToolInfo] = []
        cursor: str | None = None
        async with self._request(timeout, "the tool listing"):
            for _ in range(_MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools += [_tool_info(t) for t in page.tools]
                cursor = page.next_cursor
                if cursor is None:
                    break
        return tools

    async def call_tool(
        self, name: str, arguments: dict[str, Any], *, timeout: float
    ) -> McpCallResult:
        client = self._live()
        async with self._request(timeout + _BACKSTOP_SECONDS, f"the call of {name}"):
            result = await client.call_tool(name, arguments, read_timeout_seconds=timeout)
        return McpCallResult(
            texts=tuple(render_block(block) for block in result.content),
            structured=result.structured_content,
            is_error=bool(result.is_error),
        )

    async def aclose(self) -> None:
        never_ready = self._client is None
        self._stop.set()
        task = self._task
        if task is not None and not task.done():
            # A handshake still under way waits for nothing: cancelling it is
            # how it stops (the SDK still stops a child it started).
            if not never_ready:
                await asyncio.wait([task], timeout=_STOP_SECONDS)
            if not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=_STOP_SECONDS)
        if self._stderr is not None:
            self._stderr.close()

    def _live(self) -> Client:
        client = self._client
        if client is None or self.closed:
            raise self._lost()
        return client

    async def _settle(self) -> None:
        """Give the owner task a moment to end, so the error it ended with can be named."""
        if self._task is not None and not self._task.done():
            await asyncio.wait([self._task], timeout=_SETTLE_SECONDS)

    def _lost(self) -> McpUnavailable:
        if self._failure is not None:
            why = describe(self._failure)
        elif self._stop.is_set():
            why = "the session was closed"
        else:
            why = "the connection ended (the server exited?)"
        return McpUnavailable(self._with_stderr(f"{self._label}: {why}"), lost=True)

    @asynccontextmanager
    async def _request(self, timeout: float, what: str) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(timeout):
                yield
        except TimeoutError:
            raise McpUnavailable(
                f"{self._label} did not answer {what} within {timeout:g}s", timed_out=True
            ) from None
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED:
                await self._settle()
                raise self._lost() from None
            if exc.code == REQUEST_TIMEOUT:
                raise McpUnavailable(
                    f"{self._label} did not answer {what} in time", timed_out=True
                ) from None
            raise McpRequestFailed(
                f"{self._label} refused {what}: {exc.message}", code=exc.code
            ) from None
        except ValidationError:
            raise McpRequestFailed(
                f"{self._label} answered {what} with an invalid result"
            ) from None
        except (httpx2.TransportError, OSError, anyio.BrokenResourceError) as exc:
            raise McpUnavailable(f"{self._label}: {describe(exc)}", lost=self.closed) from None

    def _with_stderr(self, message: str) -> str:
        said = self._stderr.text if self._stderr is not None else ""
        return f"{message} (stderr: {said})" if said else message


def _tool_info(tool: types.Tool) -> McpToolInfo:
    hints = tool.annotations
    return McpToolInfo(
        name=tool.name,
        description=tool.description or tool.title or "",
        input_schema=dict(tool.input_schema),
        read_only=hints.read_only_hint if hints else None,
        open_world=hints.open_world_hint if hints else None,
    )

"""The MCP gateway: this process's connection to each registered MCP server,
their tools as ours, and what it saw of their health.

A server is connected on first use (`tools_for`, a call, a probe) and the
session kept: a stdio server keeps running as this process's child. Its
tool listing is cached for `tools_ttl` seconds. A server that cannot be
reached is unhealthy, with the error, and is not tried again before its
backoff has passed (doubling from `backoff_base` up to `backoff_max`), so
a dead server cannot slow down every run. A session that ended (the child
died, the HTTP transport failed) is restarted on the next use, or by the
background `sweep`, which also lists the tools of healthy servers now and
then to notice a server that stopped answering. `aclose` ends every
session at shutdown.

Everything here is per process: in a cluster each worker holds its own
connections, and a server's health is what the asking process saw. Every
use reads the registrations from the store, so a server removed or
replaced through another process is dropped here too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from ..domain import DomainError, NotFound
from ..domain.mcp import McpHealth, McpServer, McpStatus, McpTransport, mcp_tool_name
from ..ports import (
    McpCallResult,
    McpConnector,
    McpEndpoint,
    McpRequestFailed,
    McpSession,
    McpUnavailable,
    SecretBox,
    SecretUnreadable,
    Tool,
    ToolError,
)
from .deps import Deps
from .mcp_servers import STDIO_REFUSED, open_secrets
from .mcp_tools import McpTool

__all__ = ["McpGateway", "McpServerUnavailable"]

log = structlog.get_logger("swarmyard.mcp")

# Secret values shorter than this are not hidden in error texts: a short
# string would blank out ordinary words.
_MIN_HIDDEN = 4


class McpServerUnavailable(DomainError):
    """The server could not be reached or listed now (the API's 502)."""

    code = "mcp_unavailable"
    status = 502


@dataclass(eq=False)
class _Link:
    """One server's connection in this process, and what it last saw."""

    server: McpServer
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: McpSession | None = None
    tools: list[McpTool] | None = None
    listed_at: datetime | None = None
    status: McpStatus = McpStatus.UNKNOWN
    error: str | None = None
    checked_at: datetime | None = None
    restarts: int = 0
    failures: int = 0  # consecutive failed attempts, for the backoff
    retry_at: datetime | None = None
    connected_once: bool = False
    gone: bool = False  # dropped from the gateway: never to connect again
    hidden: tuple[str, ...] = ()  # secret values, kept out of error texts

    @property
    def key(self) -> tuple[str, str]:
        return self.server.workspace_id, self.server.name

    def health(self) -> McpHealth:
        return McpHealth(
            status=self.status,
            error=self.error,
            checked_at=self.checked_at,
            tools=None if self.tools is None else len(self.tools),
            restarts=self.restarts,
            retry_at=self.retry_at,
        )

    def usable(self) -> bool:
        session = self.session
        return session is not None and not session.closed and self.status is McpStatus.HEALTHY


class McpGateway:
    def __init__(
        self,
        deps: Deps,
        connector: McpConnector,
        secrets: SecretBox,
        *,
        stdio_allowed: bool,
        tools_ttl: float = 300.0,
        probe_every: float = 60.0,
        backoff_base: float = 1.0,
        backoff_max: float = 300.0,
    ) -> None:
        self._d = deps
        self._connector = connector
        self._secrets = secrets
        self._stdio_allowed = stdio_allowed
        self._tools_ttl = timedelta(seconds=tools_ttl)
        self._probe_every = timedelta(seconds=probe_every)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._links: dict[tuple[str, str], _Link] = {}
        self._closed = False

    # ------------------------------------------------------------------ use

    async def tools_for(self, workspace_id: str) -> list[Tool]:
        """The tools of the workspace's enabled, healthy servers (connecting
        to those not connected yet). A server that fails is left out and
        reported unhealthy; it never fails the caller."""
        servers = await self._enabled(workspace_id)
        await self._drop_others(workspace_id, servers)
        links = [await self._adopt(s) for s in servers]
        found = await asyncio.gather(*(self._tools(link) for link in links))
        return [tool for tools in found for tool in tools]

    def health(self, workspace_id: str, name: str) -> McpHealth:
        """What this process last saw of the server (no I/O)."""
        link = self._links.get((workspace_id, name))
        return McpHealth() if link is None else link.health()

    async def discover(self, workspace_id: str, name: str) -> list[McpTool]:
        """List the server's tools now. Raises NotFound, or McpServerUnavailable
        naming the error."""
        link, temporary = await self._for_request(workspace_id, name)
        try:
            tools = await self._tools(link, force=True, relist=True)
            if link.status is not McpStatus.HEALTHY:
                raise McpServerUnavailable(
                    f"MCP server {name!r} is unavailable: {link.error}",
                    details={"server": name, "error": link.error},
                )
            return tools
        finally:
            if temporary:
                await self._close(link)

    async def probe(self, workspace_id: str, name: str) -> McpHealth:
        """Connect if needed (restarting a dead server, whatever the backoff)
        and list the tools; the health that came of it. Raises NotFound."""
        link, temporary = await self._for_request(workspace_id, name)
        try:
            await self._tools(link, force=True, relist=True)
            return link.health()
        finally:
            if temporary:
                await self._close(link)

    async def forget(self, workspace_id: str, name: str) -> None:
        """Close the server's session (it was removed or replaced)."""
        link = self._links.pop((workspace_id, name), None)
        if link is not None:
            await self._close(link)

    async def sweep(self) -> None:
        """Drop servers gone from the store, restart dead ones whose backoff
        has passed, and list the tools of those not checked for a while."""
        for workspace_id in {ws for ws, _ in self._links}:
            try:
                servers = await self._enabled(workspace_id)
            except NotFound:  # the workspace itself is gone
                servers = []
            await self._drop_others(workspace_id, servers)
        now = self._d.clock.now()
        due = [link for link in list(self._links.values()) if self._due(link, now)]
        await asyncio.gather(*(self._tools(link, relist=True) for link in due))

    async def aclose(self) -> None:
        self._closed = True
        links = list(self._links.values())
        self._links.clear()
        await asyncio.gather(*(self._close(link) for link in links))

    # ------------------------------------------------------------------ links

    async def _enabled(self, workspace_id: str) -> list[McpServer]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.mcp_servers.list(enabled=True)

    async def _adopt(self, server: McpServer) -> _Link:
        """The link of this registration; one left from an older registration
        of the same name is closed."""
        key = (server.workspace_id, server.name)
        old = self._links.get(key)
        if old is not None and old.server.updated_at == server.updated_at:
            return old
        link = self._links[key] = _Link(server)
        if old is not None:
            await self._close(old)
        return link

    async def _drop_others(self, workspace_id: str, servers: list[McpServer]) -> None:
        wanted = {(s.name, s.updated_at) for s in servers}
        stale = [
            key
            for key, link in self._links.items()
            if key[0] == workspace_id and (link.server.name, link.server.updated_at) not in wanted
        ]
        for key in stale:
            await self.forget(*key)

    async def _for_request(self, workspace_id: str, name: str) -> tuple[_Link, bool]:
        """The link a person's request uses; a disabled server gets one for
        this request only, closed after it."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            server = await uow.mcp_servers.get(name)
        if not server.enabled:
            return _Link(server), True
        return await self._adopt(server), False

    async def _close(self, link: _Link) -> None:
        async with link.lock:
            link.gone = True
            session, link.session = link.session, None
        if session is not None:
            await session.aclose()

    def _due(self, link: _Link, now: datetime) -> bool:
        if link.lock.locked():
            return False  # somebody is using it right now
        if link.usable():
            return link.checked_at is None or now - link.checked_at >= self._probe_every
        if link.status is McpStatus.UNKNOWN:
            return False  # never tried here: nothing to restart
        return link.retry_at is None or now >= link.retry_at

    # ------------------------------------------------------------------ sessions

    async def _tools(
        self, link: _Link, *, force: bool = False, relist: bool = False
    ) -> list[McpTool]:
        """The server's tools (connecting first if needed); [] when it failed.
        `force` ignores the backoff, `relist` the cached listing."""
        async with link.lock:
            if not await self._connected(link, force=force):
                return []
            stale = (
                link.listed_at is None or self._d.clock.now() - link.listed_at >= self._tools_ttl
            )
            if relist or stale or link.tools is None:
                await self._list(link)
            return list(link.tools or []) if link.status is McpStatus.HEALTHY else []

    async def _connected(self, link: _Link, *, force: bool) -> bool:
        """Whether the link has a live session, connecting or restarting one
        when allowed (held under the link's lock)."""
        if link.gone or self._closed:
            return False
        session = link.session
        if session is not None and not session.closed and link.status is not McpStatus.UNHEALTHY:
            return True  # healthy, or connected and not listed yet
        now = self._d.clock.now()
        if not force and link.retry_at is not None and now < link.retry_at:
            return False
        old, link.session = link.session, None
        if old is not None:
            await old.aclose()
        try:
            endpoint = self._endpoint(link)
            link.session = await self._connector.connect(
                endpoint, timeout=link.server.timeout_seconds
            )
        except McpUnavailable as exc:
            self._failed(link, exc.message, backoff=True)
            return False
        if link.connected_once:
            link.restarts += 1
            log.info("mcp server restarted", server=link.server.name, restarts=link.restarts)
        link.connected_once = True
        link.tools = None
        return True

    async def _list(self, link: _Link) -> None:
        session = link.session
        assert session is not None
        try:
            infos = await session.list_tools(timeout=link.server.timeout_seconds)
        except (McpUnavailable, McpRequestFailed) as exc:
            self._failed(link, exc.message, backoff=True)
            return
        taken: set[str] = set()
        tools = []
        for info in infos:
            name = mcp_tool_name(link.server.name, info.name, taken)
            taken.add(name)
            tools.append(
                McpTool(
                    name=name,
                    workspace_id=link.server.workspace_id,
                    server=link.server.name,
                    transport=link.server.transport,
                    info=info,
                    call=self._call,
                )
            )
        now = self._d.clock.now()
        link.tools, link.listed_at = tools, now
        link.status, link.error, link.checked_at = McpStatus.HEALTHY, None, now
        link.failures, link.retry_at = 0, None

    def _failed(self, link: _Link, message: str, *, backoff: bool) -> None:
        now = self._d.clock.now()
        link.status, link.error, link.checked_at = McpStatus.UNHEALTHY, _hide(message, link), now
        if backoff:
            link.failures += 1
            delay = min(self._backoff_base * 2 ** (link.failures - 1), self._backoff_max)
            link.retry_at = now + timedelta(seconds=delay)
        else:  # a connection lost after it worked: the next use restarts it at once
            link.retry_at = None
        log.warning("mcp server unhealthy", server=link.server.name, error=link.error)

    def _endpoint(self, link: _Link) -> McpEndpoint:
        server = link.server
        label = f"MCP server {server.name!r}"
        if server.transport is McpTransport.STDIO and not self._stdio_allowed:
            raise McpUnavailable(f"{label}: {STDIO_REFUSED}")
        try:
            env, headers = open_secrets(server, self._secrets)
        except SecretUnreadable:
            raise McpUnavailable(
                f"{label}: its secrets were sealed under another key; register it again"
            ) from None
        values = [*env.values(), *headers.values()]
        # "Bearer <token>" may come back as the token alone.
        values += [part for v in values for part in v.split() if part != v]
        link.hidden = tuple(sorted({v for v in values if len(v) >= _MIN_HIDDEN}, key=len))[::-1]
        return McpEndpoint(
            transport=server.transport,
            command=server.command,
            args=tuple(server.args),
            env={**server.env, **env},
            url=server.url,
            headers={**server.headers, **headers},
            label=label,
        )

    # ------------------------------------------------------------------ calls

    async def _call(
        self, workspace_id: str, server: str, tool: str, args: dict[str, Any]
    ) -> McpCallResult:
        link = self._links.get((workspace_id, server))
        if link is None:
            raise ToolError(f"MCP server {server!r} is no longer available to this workspace")
        async with link.lock:
            if not await self._connected(link, force=False) or link.session is None:
                raise ToolError(f"MCP server {server!r} is unavailable: {link.error}")
            session = link.session
        try:
            return await session.call_tool(tool, args, timeout=link.server.timeout_seconds)
        except McpUnavailable as exc:
            if not exc.timed_out and link.session is session:
                self._failed(link, exc.message, backoff=False)
            doubt = "; the call may or may not have run" if exc.lost else ""
            raise ToolError(_hide(exc.message, link) + doubt) from None
        except McpRequestFailed as exc:
            raise ToolError(_hide(exc.message, link)) from None


def _hide(text: str, link: _Link) -> str:
    for value in link.hidden:  # longest first, so a value's parts go after it
        text = text.replace(value, "***")
    return text

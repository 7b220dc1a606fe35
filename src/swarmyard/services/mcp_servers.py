"""Registering a workspace's MCP servers: validation, sealing, the store.

Secret environment values and headers are sealed by the secret box before
they reach the store, and no answer carries them again: a server's view
names them only. A stdio server is a command run on the platform's own
host, so registering one needs the operator's consent
(``SWARMYARD_MCP_STDIO=true``): without it any workspace's admin could
run programs there. An HTTP server's URL is held to the egress rules of
the fetcher (`EgressScreen`): a scheme other than http(s), or a literal
address inside the host's networks (loopback, private, link-local,
metadata, ...) that the operator did not allow, is refused here; the
addresses a name resolves to are checked on connecting. Every change tells
the gateway (`on_change`), which drops its connection to the server.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from ..catalog._problems import validation_problems
from ..domain import Problem, ValidationFailed
from ..domain.mcp import (
    McpHealth,
    McpServer,
    McpServerSpec,
    McpTransport,
    mcp_spec_problems,
)
from ..domain.mcp_patch import parse_mcp_patch, patched_mcp_body
from ..ports import SecretBox, SecretUnreadable
from ..ports.net import EgressScreen, FetchRefused
from .deps import Deps

__all__ = [
    "STDIO_REFUSED",
    "McpServerService",
    "health_view",
    "mcp_server_view",
    "open_secrets",
    "parse_spec",
]

STDIO_REFUSED = (
    "stdio MCP servers run a command on the platform's host, which its operator "
    "has not allowed (SWARMYARD_MCP_STDIO=true); register a streamable HTTP server (url) instead"
)

OnChange = Callable[[str, str], Awaitable[None]]


async def _nothing(workspace_id: str, name: str) -> None:
    return None


class McpServerService:
    def __init__(
        self,
        deps: Deps,
        secrets: SecretBox,
        *,
        stdio_allowed: bool,
        egress: EgressScreen,
        on_change: OnChange = _nothing,
    ) -> None:
        self._d = deps
        self._secrets = secrets
        self._stdio_allowed = stdio_allowed
        self._egress = egress
        self._on_change = on_change

    async def register(self, workspace_id: str, body: Any, *, by: str) -> McpServer:
        """Validate and store a new server; Conflict if the name is taken."""
        spec = parse_spec(body)
        self._admit(spec)
        now = self._d.clock.now()
        server = self._server(workspace_id, spec, created_at=now, updated_at=now, by=by)
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.mcp_servers.add(server)
            await uow.commit()
        # A connection left from an earlier server of this name must not serve this one.
        await self._on_change(workspace_id, server.name)
        return server

    async def update(self, workspace_id: str, name: str, body: Any) -> McpServer:
        """Apply a change (domain/mcp_patch.py), validated as a registration
        is. Raises NotFound or ValidationFailed, and then nothing changed.
        The server's connection closes: the next use connects anew."""
        patch = parse_mcp_patch(body)
        async with self._d.store.unit_of_work(workspace_id) as uow:
            current = await uow.mcp_servers.get(name)
            spec = parse_spec(patched_mcp_body(current, patch, lambda: self._kept(current)))
            self._admit(spec)
            # Other processes notice a replaced registration by its updated_at.
            now = max(self._d.clock.now(), current.updated_at + timedelta(microseconds=1))
            server = self._server(
                workspace_id,
                spec,
                created_at=current.created_at,
                updated_at=now,
                by=current.created_by,
            )
            await uow.mcp_servers.delete(name)
            await uow.mcp_servers.add(server)
            await uow.commit()
        await self._on_change(workspace_id, name)
        return server

    def _admit(self, spec: McpServerSpec) -> None:
        """What the platform refuses to run or reach, beyond the spec's own rules."""
        transport = spec.resolved_transport
        assert transport is not None  # mcp_spec_problems refused it otherwise
        if transport is McpTransport.STDIO and not self._stdio_allowed:
            raise ValidationFailed("MCP server", [Problem("transport", STDIO_REFUSED)])
        if spec.url is not None:
            try:
                self._egress.screen(spec.url)
            except FetchRefused as exc:
                raise ValidationFailed("MCP server", [Problem("url", exc.message)]) from None

    def _kept(self, server: McpServer) -> tuple[dict[str, str], dict[str, str]]:
        try:
            return open_secrets(server, self._secrets)
        except SecretUnreadable:
            field = "secret_env" if server.transport is McpTransport.STDIO else "secret_headers"
            why = "the stored secrets were sealed under another key: give them again"
            raise ValidationFailed("MCP server change", [Problem(field, why)]) from None

    def _server(
        self,
        workspace_id: str,
        spec: McpServerSpec,
        *,
        created_at: datetime,
        updated_at: datetime,
        by: str,
    ) -> McpServer:
        transport = spec.resolved_transport
        assert transport is not None
        secret = {"env": spec.secret_env, "headers": spec.secret_headers}
        return McpServer(
            workspace_id=workspace_id,
            name=spec.name,
            transport=transport,
            created_at=created_at,
            updated_at=updated_at,
            command=spec.command,
            args=list(spec.args),
            env=dict(spec.env),
            url=spec.url,
            headers=dict(spec.headers),
            secret_env=sorted(spec.secret_env),
            secret_headers=sorted(spec.secret_headers),
            sealed_secrets=(
                self._secrets.seal(json.dumps(secret))
                if spec.secret_env or spec.secret_headers
                else None
            ),
            enabled=spec.enabled,
            timeout_seconds=spec.timeout_seconds,
            created_by=by,
        )

    async def list(self, workspace_id: str) -> list[McpServer]:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.mcp_servers.list()

    async def get(self, workspace_id: str, name: str) -> McpServer:
        """Raises NotFound."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await uow.mcp_servers.get(name)

    async def remove(self, workspace_id: str, name: str) -> None:
        """Raises NotFound. The server's connection in this process closes too."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.mcp_servers.delete(name)
            await uow.commit()
        await self._on_change(workspace_id, name)


def parse_spec(body: Any) -> McpServerSpec:
    if not isinstance(body, dict):
        raise ValidationFailed("MCP server", [Problem("", "must be a JSON object")])
    try:
        spec = McpServerSpec.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed("MCP server", validation_problems(exc, McpServerSpec)) from None
    problems = mcp_spec_problems(spec)
    if problems:
        raise ValidationFailed("MCP server", problems)
    return spec


def open_secrets(server: McpServer, secrets: SecretBox) -> tuple[dict[str, str], dict[str, str]]:
    """The server's secret environment values and headers, in clear (memory only).
    Raises SecretUnreadable when they were sealed under another key."""
    if server.sealed_secrets is None:
        return {}, {}
    opened = json.loads(secrets.open(server.sealed_secrets))
    return dict(opened.get("env") or {}), dict(opened.get("headers") or {})


def mcp_server_view(server: McpServer, health: McpHealth) -> dict[str, Any]:
    """A server as the API shows it: secret values never, their names only."""
    body: dict[str, Any] = {
        "name": server.name,
        "transport": server.transport.value,
        "enabled": server.enabled,
        "timeout_seconds": server.timeout_seconds,
    }
    if server.transport is McpTransport.STDIO:
        body |= {
            "command": server.command,
            "args": server.args,
            "env": server.env,
            "secret_env": server.secret_env,
        }
    else:
        body |= {
            "url": server.url,
            "headers": server.headers,
            "secret_headers": server.secret_headers,
        }
    return body | {
        "created_at": server.created_at.isoformat(),
        "updated_at": server.updated_at.isoformat(),
        "created_by": server.created_by,
        "health": health_view(health),
    }


def health_view(health: McpHealth) -> dict[str, Any]:
    return {
        "status": health.status.value,
        "error": health.error,
        "checked_at": health.checked_at.isoformat() if health.checked_at else None,
        "tools": health.tools,
        "restarts": health.restarts,
        "retry_at": health.retry_at.isoformat() if health.retry_at else None,
    }

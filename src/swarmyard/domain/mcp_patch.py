"""A change to a registered MCP server, as the registration it becomes.

A change names the fields it sets; each replaces the registration's value
whole (``env`` and ``headers`` too, and their secret twins, whose old
values nobody can see to merge with), and ``null`` takes a field back to
its default. Giving a ``url`` to a stdio server, or a ``command`` to an
HTTP one, moves it to the other transport, and what belonged to the old
transport is dropped. The result is a whole registration body, validated
exactly as a new one is (`McpServerSpec`), so a change can never store what
registering could not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import Problem, ValidationFailed
from .mcp import McpServer, McpTransport

__all__ = ["MCP_PATCH_FIELDS", "parse_mcp_patch", "patched_mcp_body"]

_OWN: dict[McpTransport, tuple[str, ...]] = {
    McpTransport.STDIO: ("command", "args", "env", "secret_env"),
    McpTransport.HTTP: ("url", "headers", "secret_headers"),
}
_SECRET = {McpTransport.STDIO: "secret_env", McpTransport.HTTP: "secret_headers"}
MCP_PATCH_FIELDS = frozenset(
    {"transport", "enabled", "timeout_seconds", *_OWN[McpTransport.STDIO], *_OWN[McpTransport.HTTP]}
)

# The secret values kept from the registration: (environment, headers).
Secrets = tuple[dict[str, str], dict[str, str]]


def parse_mcp_patch(body: Any) -> dict[str, Any]:
    """The fields a change sets; ValidationFailed for anything else."""
    if not isinstance(body, dict):
        raise ValidationFailed("MCP server change", [Problem("", "must be a JSON object")])
    problems = []
    for key in body:
        if key == "name":
            problems.append(
                Problem("name", "a server's name cannot change; remove it and register it again")
            )
        elif key not in MCP_PATCH_FIELDS:
            problems.append(Problem(str(key), "is not a field of an MCP server"))
    if not body and not problems:
        problems.append(Problem("", "give at least one field to change"))
    if problems:
        raise ValidationFailed("MCP server change", problems)
    return dict(body)


def patched_mcp_body(
    server: McpServer, patch: Mapping[str, Any], secrets: Callable[[], Secrets]
) -> dict[str, Any]:
    """The registration body `server` becomes with `patch` applied. `secrets`
    opens the stored secret values; it is called only when the result keeps them."""
    transport = _transport_after(server.transport, patch)
    body: dict[str, Any] = {
        "name": server.name,
        "transport": transport.value,
        "enabled": server.enabled,
        "timeout_seconds": server.timeout_seconds,
    }
    if transport is server.transport:
        if transport is McpTransport.STDIO:
            body |= {"command": server.command, "args": server.args, "env": server.env}
        else:
            body |= {"url": server.url, "headers": server.headers}
        secret_field = _SECRET[transport]
        if secret_field not in patch and (server.secret_env or server.secret_headers):
            env, headers = secrets()
            body[secret_field] = env if transport is McpTransport.STDIO else headers
    for key, value in patch.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return {key: value for key, value in body.items() if value is not None}


def _transport_after(current: McpTransport, patch: Mapping[str, Any]) -> McpTransport:
    named = patch.get("transport")
    if isinstance(named, str) and named in {t.value for t in McpTransport}:
        return McpTransport(named)
    gives = {key for key in ("command", "url") if patch.get(key) is not None}
    if gives == {"url"}:
        return McpTransport.HTTP
    if gives == {"command"}:
        return McpTransport.STDIO
    return current

"""MCP servers a workspace registers, and how their tools are named and judged.

An MCP server is either a command this host runs (``stdio``: the server
speaks JSON-RPC on its stdin and stdout) or an HTTP endpoint (streamable
HTTP). Admins register them per workspace; agents then see each of the
server's tools as one of ours, named ``mcp.<server>.<tool>``.

Some environment values and headers are credentials (an API token, an
``Authorization`` header). They are given apart (`secret_env`,
`secret_headers`), sealed by the service before they reach the store, and
only their names are ever shown again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .errors import Problem

__all__ = [
    "MCP_TOOL_PREFIX",
    "McpHealth",
    "McpServer",
    "McpServerSpec",
    "McpStatus",
    "McpTransport",
    "mcp_spec_problems",
    "mcp_tool_effects",
    "mcp_tool_name",
]

MCP_TOOL_PREFIX = "mcp."
# What model APIs accept as a tool name (OpenAI's and Anthropic's rule).
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
_TOOL_NAME_MAX = 64
_NOT_IN_TOOL_NAME = re.compile(r"[^a-zA-Z0-9_.-]")
# Short, so that `mcp.<server>.` leaves most of the 64 characters to the tool.
_SERVER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# RFC 9110 token characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
# Headers the streamable HTTP transport sets itself; a second value would
# break the session or the protocol negotiation.
_TRANSPORT_HEADERS = frozenset(
    {"accept", "content-type", "content-length", "host", "mcp-session-id", "mcp-protocol-version"}
)
_MAX_VALUE = 4096
_MAX_ENTRIES = 64


class McpTransport(StrEnum):
    STDIO = "stdio"  # a command run on this host
    HTTP = "http"  # a streamable HTTP endpoint


class McpStatus(StrEnum):
    UNKNOWN = "unknown"  # not connected from this process yet
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


@dataclass(slots=True)
class McpServer:
    """A registered server, as stored. Secret values are only in `sealed_secrets`
    (the secret box's sealed JSON of ``{"env": {...}, "headers": {...}}``);
    `secret_env` and `secret_headers` name them."""

    workspace_id: str
    name: str
    transport: McpTransport
    created_at: datetime
    updated_at: datetime
    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    secret_env: list[str] = field(default_factory=list)
    secret_headers: list[str] = field(default_factory=list)
    sealed_secrets: str | None = None
    enabled: bool = True
    timeout_seconds: float = 30.0
    created_by: str = ""


@dataclass(frozen=True, slots=True)
class McpHealth:
    """What this process last saw of a server."""

    status: McpStatus = McpStatus.UNKNOWN
    error: str | None = None  # the last failure, while unhealthy
    checked_at: datetime | None = None
    tools: int | None = None  # how many tools it listed last
    restarts: int = 0  # reconnections after the connection was lost
    retry_at: datetime | None = None  # no new attempt before this (backoff)


def _printable(value: str) -> bool:
    return "\x00" not in value and all(c.isprintable() or c == "\t" for c in value)


class McpServerSpec(BaseModel):
    """A registration as the API and the CLI send it. Which fields a transport
    takes is checked by `mcp_spec_problems`, which names each misplaced one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    # Left out: stdio when a command is given, http when a url is.
    transport: McpTransport | None = None
    command: str | None = Field(default=None, min_length=1, max_length=1000)
    args: list[str] = Field(default_factory=list, max_length=100)
    env: dict[str, str] = Field(default_factory=dict, max_length=_MAX_ENTRIES)
    secret_env: dict[str, str] = Field(default_factory=dict, max_length=_MAX_ENTRIES)
    url: str | None = Field(default=None, max_length=2000)
    headers: dict[str, str] = Field(default_factory=dict, max_length=_MAX_ENTRIES)
    secret_headers: dict[str, str] = Field(default_factory=dict, max_length=_MAX_ENTRIES)
    enabled: bool = True
    # Bounds connecting, listing tools and each tool call.
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SERVER_NAME.match(value):
            raise ValueError(
                f"{value[:40]!r} is not a server name: 1 to 30 lowercase letters, digits, "
                "'-' and '_', starting with a letter or digit"
            )
        return value

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or not _printable(value)):
            raise ValueError("must be a program name or path, without control characters")
        return value

    @field_validator("args")
    @classmethod
    def _args(cls, values: list[str]) -> list[str]:
        for value in values:
            if len(value) > _MAX_VALUE or not _printable(value):
                raise ValueError(
                    f"each argument is at most {_MAX_VALUE} characters, without control characters"
                )
        return values

    @field_validator("env", "secret_env")
    @classmethod
    def _env(cls, values: dict[str, str]) -> dict[str, str]:
        for name, value in values.items():
            if not _ENV_NAME.match(name):
                raise ValueError(
                    f"{name[:40]!r} is not an environment variable name (letters, digits and _)"
                )
            if len(value) > _MAX_VALUE or "\x00" in value:
                raise ValueError(f"the value of {name} is too long or holds a NUL character")
        return values

    @field_validator("headers", "secret_headers")
    @classmethod
    def _headers(cls, values: dict[str, str]) -> dict[str, str]:
        for name, value in values.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name[:40]!r} is not an HTTP header name")
            if name.lower() in _TRANSPORT_HEADERS:
                raise ValueError(f"{name} is set by the MCP transport itself")
            if len(value) > _MAX_VALUE or not _printable(value):
                raise ValueError(
                    f"the value of {name} is too long or holds control characters (line breaks)"
                )
        return values

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials; send them in secret_headers")
        if any(c.isspace() or not c.isprintable() for c in value):
            raise ValueError("must not hold spaces or control characters")
        return value

    @property
    def resolved_transport(self) -> McpTransport | None:
        if self.transport is not None:
            return self.transport
        if self.command is not None and self.url is None:
            return McpTransport.STDIO
        if self.url is not None and self.command is None:
            return McpTransport.HTTP
        return None


def mcp_spec_problems(spec: McpServerSpec) -> list[Problem]:
    """What a well-formed registration still gets wrong for its transport."""
    transport = spec.resolved_transport
    if transport is None:
        if spec.command is not None:
            return [Problem("transport", "give either a command (stdio) or a url (http), not both")]
        return [Problem("command", "give a command to run (stdio) or a url (http)")]
    if transport is McpTransport.STDIO:
        problems = [] if spec.command else [Problem("command", "a stdio server needs a command")]
        misplaced: dict[str, object] = {
            "url": spec.url,
            "headers": spec.headers,
            "secret_headers": spec.secret_headers,
        }
    else:
        problems = [] if spec.url else [Problem("url", "an http server needs a url")]
        misplaced = {
            "command": spec.command,
            "args": spec.args,
            "env": spec.env,
            "secret_env": spec.secret_env,
        }
    problems += [
        Problem(name, f"a {transport.value} server takes no {name}")
        for name, value in misplaced.items()
        if value
    ]
    problems += [
        Problem(f"secret_env.{name}", "is also given in env")
        for name in spec.secret_env
        if name in spec.env
    ]
    plain = {h.lower() for h in spec.headers}
    problems += [
        Problem(f"secret_headers.{name}", "is also given in headers")
        for name in spec.secret_headers
        if name.lower() in plain
    ]
    return problems


def mcp_tool_name(server: str, tool: str, taken: set[str] | None = None) -> str:
    """``mcp.<server>.<tool>`` in what model APIs accept as a tool name.

    Characters they refuse become ``_``. A name that is too long, or that
    another tool of the same server already took once cleaned, is cut and
    ends in a short hash of the original, so it stays stable across
    discoveries and distinct from its neighbours."""
    clean = _NOT_IN_TOOL_NAME.sub("_", tool) or "_"
    name = f"{MCP_TOOL_PREFIX}{server}.{clean}"
    if len(name) > _TOOL_NAME_MAX or (taken is not None and name in taken):
        digest = hashlib.sha256(tool.encode()).hexdigest()[:8]
        name = f"{name[: _TOOL_NAME_MAX - 9]}-{digest}"
    assert _TOOL_NAME.match(name), name  # a server name is at most 30 characters
    return name


def mcp_tool_effects(transport: McpTransport) -> frozenset[str]:
    """What calling an MCP tool may do, for the policy gate (domain.policy).

    A server is another program, so everything is assumed: its answers may
    carry an outsider's text, a call may change something and send its
    arguments on, and a command on this host may read the host's files. The
    server's own hints (MCP tool annotations such as ``readOnlyHint``) do not
    narrow this: the protocol itself says not to decide on hints from a
    server one does not control, and the policy gate is such a decision."""
    effects = {"untrusted_content", "side_effect", "egress"}
    if transport is McpTransport.STDIO:
        effects.add("reads_private")
    return frozenset(effects)

"""What went wrong with an MCP server, in one line a person can act on.

The SDK reports failures as whatever its layers raise: exception groups
from its task groups, `MCPError` with a JSON-RPC code, httpx2's transport
errors, `OSError` from spawning a command. This module finds the cause
inside and names it, without a traceback.
"""

from __future__ import annotations

import httpx2

from mcp.shared.exceptions import MCPError

__all__ = ["cause", "describe"]


def cause(exc: BaseException) -> BaseException:
    """The first leaf of an exception group (the error that ended the task group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def describe(exc: BaseException) -> str:
    exc = cause(exc)
    if isinstance(exc, MCPError):
        return f"MCP error {exc.code}: {exc.message}"
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url}"
    if isinstance(exc, httpx2.TransportError):
        where = f" ({exc.request.url})" if _has_request(exc) else ""
        return f"{type(exc).__name__}{where}: {exc}"
    if isinstance(exc, FileNotFoundError):
        return f"no such command: {exc.filename or exc}"
    if isinstance(exc, PermissionError):
        return f"not allowed to run {exc.filename or 'the command'}: {exc.strerror or exc}"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _has_request(exc: httpx2.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 (raises RuntimeError when the error carries none)
    except RuntimeError:
        return False
    return True

"""One tool of an MCP server, as one of the platform's `Tool`s.

The model sees ``mcp.<server>.<tool>`` with the server's own description and
argument schema. A call goes through the gateway (which restarts a server
that died) and answers with the tool's text, and its structured content as
JSON when that says more than the text already does. A failure, the
server's or the tool's own (an MCP error result), is a `ToolError`, whose
message goes back to the model.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ..domain.mcp import McpTransport, mcp_tool_effects
from ..ports import McpCallResult, McpToolInfo, ToolContext, ToolError, ToolSpec

__all__ = ["McpTool", "result_text", "tool_schema"]

# Model APIs cap tool descriptions (OpenAI at 1024 characters).
_MAX_DESCRIPTION = 1024
# What goes back to the model from one call; the rest is cut, and said to be.
_MAX_RESULT = 50_000

Call = Callable[[str, str, str, dict[str, Any]], Awaitable[McpCallResult]]


class McpTool:
    """Implements `ports.Tool`; bound to one workspace's server."""

    def __init__(
        self,
        *,
        name: str,
        workspace_id: str,
        server: str,
        transport: McpTransport,
        info: McpToolInfo,
        call: Call,
    ) -> None:
        self.workspace_id = workspace_id
        self.server = server
        self.mcp_name = info.name
        self.info = info
        description = info.description.strip() or f"{info.name} (a tool of MCP server {server})"
        self.spec = ToolSpec(
            name=name,
            description=description[:_MAX_DESCRIPTION],
            parameters=tool_schema(info.input_schema),
            effects=mcp_tool_effects(transport),
        )
        self._call = call

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        if ctx.workspace_id != self.workspace_id:
            # A caller bug, but one that would cross tenants: refuse it plainly.
            raise ToolError(f"{self.spec.name} belongs to another workspace")
        result = await self._call(self.workspace_id, self.server, self.mcp_name, args)
        text = result_text(result)
        if result.is_error:
            raise ToolError(text or f"{self.spec.name} failed without saying why")
        return text


def tool_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The server's argument schema, as model APIs take one: an object at the root."""
    if schema.get("type") == "object":
        return schema
    return {"properties": {}, **schema, "type": "object"}


def result_text(result: McpCallResult) -> str:
    text = "\n".join(t for t in result.texts if t)
    if result.structured is not None and not _says_the_same(text, result.structured):
        structured = json.dumps(result.structured, ensure_ascii=False, default=str)
        text = f"{text}\n{structured}" if text else structured
    if len(text) > _MAX_RESULT:
        cut = len(text) - _MAX_RESULT
        text = f"{text[:_MAX_RESULT]}\n[{cut} more characters cut]"
    return text


def _says_the_same(text: str, structured: Any) -> bool:
    """Servers often send their structured result as JSON text too."""
    try:
        return bool(json.loads(text) == structured)
    except ValueError:
        return False

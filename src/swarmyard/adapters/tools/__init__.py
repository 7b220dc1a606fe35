"""Tools agents call: the built-in ones here; file, git, sandbox, HTTP and MCP tools join them."""

from .builtin import ListTasksTool, ReadTaskTool, builtin_tools
from .http_fetch import HttpFetchTool
from .run_command import RunCommandTool

__all__ = ["HttpFetchTool", "ListTasksTool", "ReadTaskTool", "RunCommandTool", "builtin_tools"]

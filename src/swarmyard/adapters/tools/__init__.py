"""Tools agents call: the built-in ones here; file, git, sandbox, HTTP and MCP tools join them."""

from .builtin import ListTasksTool, ReadTaskTool, builtin_tools

__all__ = ["ListTasksTool", "ReadTaskTool", "builtin_tools"]

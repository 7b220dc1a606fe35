"""Tools agents call: the built-in ones here; file, git, sandbox, HTTP and MCP tools join them."""

from .builtin import ListTasksTool, ReadTaskTool, builtin_tools
from .consult_tools import RequestDecisionTool, RequestHelpTool, consult_tools
from .git_tools import GitCommitTool, GitDiffTool, GitStatusTool, git_tools, task_branch
from .http_fetch import HttpFetchTool
from .run_command import RunCommandTool
from .workdir_files import ListFilesTool, ReadFileTool, SearchFilesTool, WriteFileTool, file_tools

__all__ = [
    "GitCommitTool",
    "GitDiffTool",
    "GitStatusTool",
    "HttpFetchTool",
    "ListFilesTool",
    "ListTasksTool",
    "ReadFileTool",
    "ReadTaskTool",
    "RequestDecisionTool",
    "RequestHelpTool",
    "RunCommandTool",
    "SearchFilesTool",
    "WriteFileTool",
    "builtin_tools",
    "consult_tools",
    "file_tools",
    "git_tools",
    "task_branch",
]

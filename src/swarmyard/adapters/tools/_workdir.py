"""Confinement of tool paths to the task's project directory.

Every file and git tool takes paths from a model, which may have read
anything (a README telling it to fetch `~/.ssh/id_rsa`). Each path goes
through `confine`: it is resolved against the project's directory, symlinks
included, and refused when the result lies outside it. Checking the
resolved path (not the text) is what catches `..`, absolute paths and links
pointing out alike; the tools then open the resolved path without following
a link in its last part, so a link swapped in afterwards is not followed
either.
"""

from __future__ import annotations

from pathlib import Path

from ...ports import ToolContext, ToolError

__all__ = ["confine", "in_git_dir", "project_root", "relative"]


def project_root(ctx: ToolContext, tool: str) -> Path:
    """The task's project directory, resolved; refused when there is none."""
    if not ctx.workdir:
        raise ToolError(f"{tool}: the task's project has no working directory")
    try:
        root = Path(ctx.workdir).resolve(strict=True)
    except (OSError, RuntimeError):
        raise ToolError(
            f"{tool}: the project's working directory {ctx.workdir} does not exist"
        ) from None
    if not root.is_dir():
        raise ToolError(f"{tool}: the project's working directory {ctx.workdir} is not a directory")
    return root


def confine(root: Path, path: object, *, name: str = "path") -> Path:
    """`path` (relative to `root`, or absolute inside it) resolved, symlinks
    followed; a ToolError when it is not a string, holds a NUL byte or ends
    up outside `root`."""
    if not isinstance(path, str) or not path:
        raise ToolError(f"{name} must be a non-empty string")
    if "\x00" in path:
        raise ToolError(f"{name} contains a NUL byte")
    try:
        resolved = (root / path).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise ToolError(f"{name} {path!r} cannot be resolved: {exc}") from None
    if resolved != root and root not in resolved.parents:
        raise ToolError(f"{name} {path!r} is outside the project's working directory")
    return resolved


def relative(root: Path, resolved: Path) -> str:
    """How answers name a confined path: relative to the project, '/'-separated."""
    return resolved.relative_to(root).as_posix() if resolved != root else "."


def in_git_dir(root: Path, resolved: Path) -> bool:
    """Whether the path is a `.git` (directory or worktree file) or inside one:
    git's own data, which only the git tools touch. Case-insensitive, as the
    file system under the project may be."""
    return any(part.lower() == ".git" for part in resolved.relative_to(root).parts)

"""`git.status`, `git.diff`, `git.commit`: the project's repository, for agents.

An agent's commits go to a branch of their own per task,
`swarmyard/task-<task id>`, and never through the user's index, HEAD or
checked-out branch: `git.commit` builds the commit with plumbing in a
temporary index (read the branch tip, or HEAD for the first commit; add the
working tree; write the tree; commit it on its parent) and moves the branch
with `update-ref` naming the value it expects, so a commit landing
meanwhile is never lost: that call fails instead. A commit that would
change nothing creates nothing. The agent loop journals `git.commit` (a
side effect), so a resumed run does not commit twice.

git runs without a terminal prompt or pager, with a time limit, and with
`core.hooksPath=/dev/null` and `core.fsmonitor=false`: the project's hooks
are its owner's programs and must not run on behalf of an agent. The agent's
identity comes from the environment, so the host's git config need not
name anyone. `GIT_OPTIONAL_LOCKS=0` keeps `git status` from rewriting the
user's index.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...ports import Tool, ToolContext, ToolError, ToolSpec
from ._workdir import confine, in_git_dir, project_root, relative

__all__ = ["GitCommitTool", "GitDiffTool", "GitStatusTool", "git_tools", "task_branch"]

GIT_TIMEOUT_SECONDS = 60.0
DIFF_MAX_CHARS = 100_000
DIFF_DEFAULT_CHARS = 50_000
MAX_MESSAGE_CHARS = 10_000
_MAX_ENTRIES = 500  # status entries, untracked and changed files in an answer
_STDERR_BYTES = 8192
_UNSAFE_REF = re.compile(r"[^A-Za-z0-9_-]+")
_UNSAFE_ROLE = re.compile(r"[^a-z0-9-]+")


def task_branch(task_id: str) -> str:
    """The branch a task's commits go to. Only letters, digits, '_' and '-'
    survive, so no task id can make a ref git refuses or one that points
    elsewhere ('..', '.lock', '@{', slashes)."""
    safe = _UNSAFE_REF.sub("-", task_id).strip("-")[:100] or "unnamed"
    return f"swarmyard/task-{safe}"


def _identity(role: str) -> dict[str, str]:
    slug = _UNSAFE_ROLE.sub("-", role.lower()).strip("-")[:64] or "agent"
    name, email = f"Swarmyard agent ({slug})", f"{slug}@agents.swarmyard.local"
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def _environment(extra: dict[str, str]) -> dict[str, str]:
    # GIT_DIR, GIT_INDEX_FILE and the like of the platform's own environment
    # would point git elsewhere than the project.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
    )
    env.update(extra)
    return env


@dataclass(frozen=True, slots=True)
class _Out:
    code: int
    out: str
    err: str
    truncated: bool


async def _read_capped(stream: asyncio.StreamReader | None, cap: int) -> tuple[bytes, bool]:
    """Up to `cap` bytes of a stream, reading (and dropping) the rest so git
    never blocks on a full pipe."""
    if stream is None:
        return b"", False
    kept = bytearray()
    cut = False
    while chunk := await stream.read(65536):
        room = cap - len(kept)
        if len(chunk) > room:
            cut = True
        kept += chunk[: max(room, 0)]
    return bytes(kept), cut


@dataclass(frozen=True, slots=True)
class _Repo:
    """A project directory that is a git working tree, and how to run git in it."""

    root: Path
    prefix: str  # the directory's path inside the repository ('' at its top, else 'dir/')
    timeout: float
    tool: str

    async def git(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        stdin: bytes | None = None,
        cap: int = 4_000_000,
        check: bool = True,
    ) -> _Out:
        return await _run_git(
            self.root, args, env=env, stdin=stdin, cap=cap, timeout=self.timeout, check=check
        )

    async def commit_of(self, rev: str) -> str | None:
        out = await self.git("rev-parse", "-q", "--verify", f"{rev}^{{commit}}", check=False)
        return out.out.strip() if out.code == 0 else None

    def strip(self, path: str) -> str:
        """A path git gave from the repository's top, made relative to the project."""
        return path[len(self.prefix) :] if self.prefix and path.startswith(self.prefix) else path


async def _run_git(
    cwd: Path,
    args: tuple[str, ...],
    *,
    env: dict[str, str] | None,
    stdin: bytes | None,
    cap: int,
    timeout: float,
    check: bool,
) -> _Out:
    argv = ["git", "--no-pager", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        *args,
        cwd=cwd,
        env=_environment(env or {}),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )

    async def feed() -> None:
        if proc.stdin is not None and stdin is not None:
            proc.stdin.write(stdin)
            with contextlib.suppress(ConnectionError):
                await proc.stdin.drain()
            proc.stdin.close()

    try:
        async with asyncio.timeout(timeout):
            _, (out, cut), (err, _) = await asyncio.gather(
                feed(), _read_capped(proc.stdout, cap), _read_capped(proc.stderr, _STDERR_BYTES)
            )
            code = await proc.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise ToolError(f"git {args[0]} took longer than {timeout:g} s") from None
    result = _Out(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), cut)
    if check and code != 0:
        raise ToolError(f"git {args[0]} failed: {result.err.strip() or f'exit code {code}'}")
    return result


async def _open_repo(ctx: ToolContext, tool: str, timeout: float) -> _Repo:
    root = project_root(ctx, tool)
    probe = await _run_git(
        root,
        ("rev-parse", "--is-inside-work-tree", "--show-prefix"),
        env=None,
        stdin=None,
        cap=65536,
        timeout=timeout,
        check=False,
    )
    lines = probe.out.splitlines()
    if probe.code != 0 or not lines or lines[0] != "true":
        if probe.code == 0 or "not a git repository" in probe.err:
            raise ToolError(f"{tool}: the project's working directory is not a git repository")
        first = probe.err.strip().splitlines()[0] if probe.err.strip() else f"exit {probe.code}"
        raise ToolError(f"{tool}: git cannot use the project's working directory: {first}")
    prefix = lines[1] if len(lines) > 1 else ""
    return _Repo(root, prefix, timeout, tool)


def _fields(out: str) -> list[str]:
    return [f for f in out.split("\0") if f]


def _status_entries(repo: _Repo, out: str) -> list[dict[str, str]]:
    """`git status --porcelain=v1 -z`: 'XY path', a rename followed by its source."""
    entries: list[dict[str, str]] = []
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        field = fields[i]
        i += 1
        if len(field) < 4:
            continue
        xy = field[:2]
        entry = {"status": xy, "path": repo.strip(field[3:])}
        if "R" in xy or "C" in xy:
            entry["from"] = repo.strip(fields[i]) if i < len(fields) else ""
            i += 1
        entries.append(entry)
    return entries


class GitStatusTool:
    def __init__(self, *, timeout_seconds: float = GIT_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout_seconds
        self.spec = ToolSpec(
            name="git.status",
            description=(
                "The state of the project's git working tree: checked-out branch, HEAD, "
                "changed and untracked files (git's two-letter status codes), and this "
                "task's branch (where git.commit commits) with its tip, if it exists yet."
            ),
            parameters={"type": "object", "properties": {}, "additionalProperties": False},
            effects=frozenset({"reads_private"}),
        )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        repo = await _open_repo(ctx, self.spec.name, self._timeout)
        status = await repo.git(
            "status", "--porcelain=v1", "-z", "--untracked-files=normal", "--", "."
        )
        symbolic = await repo.git("symbolic-ref", "-q", "--short", "HEAD", check=False)
        entries = _status_entries(repo, status.out)
        branch = task_branch(ctx.task_id)
        head = await repo.commit_of("HEAD")
        return json.dumps(
            {
                "branch": symbolic.out.strip() if symbolic.code == 0 else None,
                "head": head,
                "clean": not entries,
                "changes": entries[:_MAX_ENTRIES],
                "truncated": len(entries) > _MAX_ENTRIES or status.truncated,
                "task_branch": await _task_branch_state(repo, branch, head),
            }
        )


async def _task_branch_state(repo: _Repo, branch: str, head: str | None) -> dict[str, Any]:
    tip = await repo.commit_of(f"refs/heads/{branch}")
    state: dict[str, Any] = {"name": branch, "exists": tip is not None, "commit": tip}
    if tip is None:
        return state
    subject = await repo.git("log", "-1", "--format=%s", tip)
    state["subject"] = subject.out.strip()
    if head is not None:
        ahead = await repo.git("rev-list", "--count", f"{head}..{tip}")
        state["commits_ahead_of_head"] = int(ahead.out.strip() or 0)
    return state


class GitDiffTool:
    def __init__(
        self, *, timeout_seconds: float = GIT_TIMEOUT_SECONDS, max_chars: int = DIFF_MAX_CHARS
    ) -> None:
        self._timeout = timeout_seconds
        self._max = max_chars
        self._default = min(DIFF_DEFAULT_CHARS, max_chars)
        self.spec = ToolSpec(
            name="git.diff",
            description=(
                "The changes of the project's working tree as a unified diff: against HEAD "
                "(default) or against this task's branch (against='task_branch', what "
                "git.commit would add now). Optional path (file or directory) and stat "
                "(a summary instead of the patch). Untracked files are listed apart; "
                f"the diff is cut after max_chars (default {self._default})."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "against": {"type": "string", "enum": ["head", "task_branch"]},
                    "path": {"type": "string", "description": "Only this file or directory"},
                    "stat": {"type": "boolean", "description": "Summary only"},
                    "max_chars": {"type": "integer", "minimum": 1, "maximum": max_chars},
                },
                "additionalProperties": False,
            },
            effects=frozenset({"reads_private"}),
        )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        against = args.get("against", "head")
        if against not in ("head", "task_branch"):
            raise ToolError("against must be 'head' or 'task_branch'")
        stat = args.get("stat", False)
        if not isinstance(stat, bool):
            raise ToolError("stat must be true or false")
        limit = _chars(args.get("max_chars"), self._default, self._max)
        repo = await _open_repo(ctx, self.spec.name, self._timeout)
        spec = self._pathspec(repo, args.get("path"))
        base_name, base = await self._base(repo, against, ctx.task_id)
        diff = await repo.git(
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--relative",
            *(["--stat"] if stat else []),
            base,
            "--",
            spec,
            cap=limit * 4 + 4,
        )
        untracked = _fields(
            (await repo.git("ls-files", "-z", "--others", "--exclude-standard", "--", spec)).out
        )
        text = diff.out
        return json.dumps(
            {
                "base": base_name,
                "base_commit": base,
                "diff": text[:limit],
                "truncated": diff.truncated or len(text) > limit,
                "untracked": untracked[:_MAX_ENTRIES],
            }
        )

    def _pathspec(self, repo: _Repo, path: object) -> str:
        if path is None:
            return "."
        resolved = confine(repo.root, path)
        if in_git_dir(repo.root, resolved):
            raise ToolError("git.diff does not look inside .git")
        # Literal: '*' or ':(glob)' in a name is a name here, never pathspec magic.
        return f":(literal){relative(repo.root, resolved)}"

    @staticmethod
    async def _base(repo: _Repo, against: str, task_id: str) -> tuple[str, str]:
        if against == "task_branch":
            branch = task_branch(task_id)
            tip = await repo.commit_of(f"refs/heads/{branch}")
            if tip is None:
                raise ToolError(
                    f"the task branch {branch} does not exist yet (git.commit creates it); "
                    "diff against head instead"
                )
            return branch, tip
        head = await repo.commit_of("HEAD")
        if head is None:
            raise ToolError("the repository has no commits yet: there is no HEAD to diff against")
        return "HEAD", head


def _chars(value: object, default: int, ceiling: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolError("max_chars must be a positive integer")
    return min(value, ceiling)


class GitCommitTool:
    def __init__(self, *, timeout_seconds: float = GIT_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout_seconds
        self.spec = ToolSpec(
            name="git.commit",
            description=(
                "Commit the project's working tree (every change, new files included, "
                "except ignored ones) to this task's own branch, swarmyard/task-<task id>, "
                "created from HEAD on the first commit. The checked-out branch, HEAD and "
                "the index are left as they are. Answers the branch, the commit and the "
                "files it changed; with no change it commits nothing and says so."
            ),
            parameters={
                "type": "object",
                "properties": {"message": {"type": "string", "description": "Commit message"}},
                "required": ["message"],
                "additionalProperties": False,
            },
            effects=frozenset({"side_effect", "reads_private"}),
        )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        message = args.get("message")
        if not isinstance(message, str) or not message.strip():
            raise ToolError("git.commit needs message")
        if len(message) > MAX_MESSAGE_CHARS:
            raise ToolError(f"the message is longer than {MAX_MESSAGE_CHARS} characters")
        repo = await _open_repo(ctx, self.spec.name, self._timeout)
        branch = task_branch(ctx.task_id)
        ref = f"refs/heads/{branch}"
        tip = await repo.commit_of(ref)
        parent = tip or await repo.commit_of("HEAD")
        tree = await self._snapshot(repo, parent)
        if tree is None:
            what = branch if tip else "HEAD"
            return json.dumps(
                {
                    "committed": False,
                    "branch": branch,
                    "commit": tip,
                    "files_changed": [],
                    "note": f"nothing to commit: the working tree matches {what}",
                }
            )
        commit = await self._commit_tree(repo, tree, parent, _message(message, ctx), ctx.role)
        moved = await repo.git(
            "update-ref", "-m", f"swarmyard: {ctx.role} commit", ref, commit, tip or "", check=False
        )
        if moved.code != 0:
            raise ToolError(
                f"the branch {branch} moved while committing (another commit landed), so "
                f"nothing was committed; call git.commit again. git said: {moved.err.strip()}"
            )
        changed = await _changed_files(repo, parent, commit)
        return json.dumps(
            {
                "committed": True,
                "branch": branch,
                "commit": commit,
                "parent": parent,
                "files_changed": changed[:_MAX_ENTRIES],
                "files_changed_count": len(changed),
            }
        )

    @staticmethod
    async def _snapshot(repo: _Repo, parent: str | None) -> str | None:
        """The tree of the working tree on top of `parent`, built in a temporary
        index; None when it does not differ from the parent's."""
        with tempfile.TemporaryDirectory(prefix="swarmyard-index-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            await repo.git("read-tree", *([parent] if parent else ["--empty"]), env=env)
            await repo.git("add", "-A", "--", ".", env=env)
            tree = (await repo.git("write-tree", env=env)).out.strip()
            if parent is None:
                files = await repo.git("ls-files", "-z", env=env, cap=16)
                return tree if files.out else None
        parent_tree = await repo.git("rev-parse", f"{parent}^{{tree}}")
        return None if parent_tree.out.strip() == tree else tree

    @staticmethod
    async def _commit_tree(
        repo: _Repo, tree: str, parent: str | None, message: str, role: str
    ) -> str:
        out = await repo.git(
            "commit-tree",
            "--no-gpg-sign",  # signing would need the user's key, and maybe a prompt
            *(["-p", parent] if parent else []),
            "-F",
            "-",
            tree,
            env=_identity(role),
            stdin=message.encode("utf-8", "replace"),
        )
        return out.out.strip()


def _message(message: str, ctx: ToolContext) -> str:
    def one_line(value: str) -> str:
        return " ".join(value.split())

    return (
        f"{message.strip()}\n\n"
        f"Swarmyard-Task: {one_line(ctx.task_id)}\nSwarmyard-Run: {one_line(ctx.run_id)}\n"
    )


async def _changed_files(repo: _Repo, parent: str | None, commit: str) -> list[dict[str, str]]:
    revs = [parent, commit] if parent else ["--root", commit]
    out = await repo.git("diff-tree", "-r", "-z", "--no-commit-id", "--name-status", *revs)
    fields = _fields(out.out)
    return [
        {"status": status, "path": repo.strip(path)}
        for status, path in zip(fields[::2], fields[1::2], strict=False)
    ]


def git_tools(*, timeout_seconds: float = GIT_TIMEOUT_SECONDS) -> dict[str, Tool]:
    """The git tools, by name."""
    tools: list[Tool] = [
        GitStatusTool(timeout_seconds=timeout_seconds),
        GitDiffTool(timeout_seconds=timeout_seconds),
        GitCommitTool(timeout_seconds=timeout_seconds),
    ]
    return {tool.spec.name: tool for tool in tools}

"""The git tools against real repositories and the real `git`: commits land on the
task's branch while the user's HEAD, index and checked-out branch stay as they
were; the project's hooks never run; status and diff read without writing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmyard.adapters.tools import (
    GitCommitTool,
    GitDiffTool,
    GitStatusTool,
    git_tools,
    task_branch,
)
from swarmyard.ports import Tool, ToolContext, ToolError
from swarmyard.testing.sandbox import scratch_dir

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")

BRANCH = "swarmyard/task-task-7"
_USER = {
    "GIT_AUTHOR_NAME": "Project Owner",
    "GIT_AUTHOR_EMAIL": "owner@example.com",
    "GIT_COMMITTER_NAME": "Project Owner",
    "GIT_COMMITTER_EMAIL": "owner@example.com",
}


def git(repo: Path, *args: str, check: bool = True) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | _USER
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout.strip()


@pytest.fixture
def repo() -> Iterator[Path]:
    with scratch_dir("swarmyard-repo-") as path:
        git(path, "init", "-q", "-b", "main")
        (path / "app.py").write_text("print('v1')\n")
        (path / ".gitignore").write_text("*.log\n")
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "first")
        yield path


@pytest.fixture
def markers() -> Iterator[Path]:
    with scratch_dir("swarmyard-hook-markers-") as path:
        yield path


def ran(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


def ctx(workdir: Path | None, *, task_id: str = "task-7", role: str = "developer") -> ToolContext:
    return ToolContext("ws", "run-3", task_id, role, workdir=str(workdir) if workdir else None)


async def call(tool: Tool, workdir: Path, **args: Any) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(await tool.call(args, ctx(workdir)))
    return answer


def user_state(repo: Path) -> tuple[str, str, str, bytes]:
    """What the user sees of the repository: branch, HEAD, status, the index file."""
    return (
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "status", "--porcelain"),
        (repo / ".git" / "index").read_bytes(),
    )


def test_the_tools_declare_their_names_and_effects() -> None:
    tools = git_tools()
    assert sorted(tools) == ["git.commit", "git.diff", "git.status"]
    assert tools["git.status"].spec.effects == frozenset({"reads_private"})
    assert tools["git.diff"].spec.effects == frozenset({"reads_private"})
    assert tools["git.commit"].spec.effects == frozenset({"side_effect", "reads_private"})


def test_the_task_branch_name_keeps_only_safe_characters(repo: Path) -> None:
    assert task_branch("01HX-abc_9") == "swarmyard/task-01HX-abc_9"
    assert task_branch("../../evil branch~1^{}.lock") == "swarmyard/task-evil-branch-1-lock"
    assert task_branch("..") == "swarmyard/task-unnamed"
    git(repo, "check-ref-format", "refs/heads/" + task_branch("a/../b:@{x}"))


@pytest.mark.parametrize("tool", [GitStatusTool(), GitDiffTool(), GitCommitTool()])
async def test_without_a_project_directory_every_tool_refuses(tool: Tool) -> None:
    with pytest.raises(ToolError, match="the task's project has no working directory"):
        await tool.call({"message": "x"}, ctx(None))


@pytest.mark.parametrize("tool", [GitStatusTool(), GitDiffTool(), GitCommitTool()])
async def test_a_directory_that_is_no_repository_is_refused(tool: Tool) -> None:
    with scratch_dir("swarmyard-plain-") as plain:
        (plain / "a.txt").write_text("a\n")
        with pytest.raises(ToolError, match="is not a git repository"):
            await tool.call({"message": "x"}, ctx(plain))
        assert not (plain / ".git").exists()


# --- git.commit ----------------------------------------------------------------


async def test_commit_lands_on_the_task_branch_and_leaves_head_index_and_branch_alone(
    repo: Path,
) -> None:
    (repo / "staged.txt").write_text("the user's staged work\n")
    git(repo, "add", "staged.txt")
    (repo / "app.py").write_text("print('v2')\n")
    (repo / "new" / "mod.py").parent.mkdir()
    (repo / "new" / "mod.py").write_text("x = 1\n")
    (repo / "debug.log").write_text("ignored\n")
    before = user_state(repo)
    head = before[1]

    answer = await call(GitCommitTool(), repo, message="Bump the version")

    assert user_state(repo) == before
    assert answer["committed"]
    assert answer["branch"] == BRANCH
    assert answer["parent"] == head
    assert answer["commit"] == git(repo, "rev-parse", f"refs/heads/{BRANCH}")
    assert answer["files_changed"] == [
        {"status": "M", "path": "app.py"},
        {"status": "A", "path": "new/mod.py"},
        {"status": "A", "path": "staged.txt"},
    ]
    assert answer["files_changed_count"] == 3
    assert git(repo, "show", f"{BRANCH}:app.py") == "print('v2')"
    assert git(repo, "ls-tree", "-r", "--name-only", BRANCH).splitlines() == [
        ".gitignore",
        "app.py",
        "new/mod.py",
        "staged.txt",
    ]
    log = git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", BRANCH)
    who, committer, body = log.split("|", 2)
    assert who == committer == "Swarmyard agent (developer) <developer@agents.swarmyard.local>"
    assert body.startswith("Bump the version\n\nSwarmyard-Task: task-7\nSwarmyard-Run: run-3")
    assert git(repo, "rev-parse", "main") == head


async def test_a_second_commit_stacks_on_the_first(repo: Path) -> None:
    (repo / "app.py").write_text("print('v2')\n")
    first = await call(GitCommitTool(), repo, message="v2")
    (repo / "app.py").unlink()
    second = await call(GitCommitTool(), repo, message="drop app")
    assert second["parent"] == first["commit"]
    assert git(repo, "rev-parse", f"{BRANCH}^") == first["commit"]
    assert second["files_changed"] == [{"status": "D", "path": "app.py"}]
    assert git(repo, "rev-list", "--count", BRANCH) == "3"


async def test_nothing_to_commit_creates_nothing(repo: Path) -> None:
    answer = await call(GitCommitTool(), repo, message="nothing")
    assert answer == {
        "committed": False,
        "branch": BRANCH,
        "commit": None,
        "files_changed": [],
        "note": "nothing to commit: the working tree matches HEAD",
    }
    assert git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{BRANCH}", check=False) == ""
    (repo / "app.py").write_text("print('v2')\n")
    made = await call(GitCommitTool(), repo, message="v2")
    again = await call(GitCommitTool(), repo, message="again")
    assert not again["committed"]
    assert again["commit"] == made["commit"]
    assert again["note"] == f"nothing to commit: the working tree matches {BRANCH}"
    assert git(repo, "rev-parse", BRANCH) == made["commit"]


async def test_a_commit_landing_meanwhile_is_not_lost(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "app.py").write_text("print('v2')\n")
    first = await call(GitCommitTool(), repo, message="v2")
    other = git(
        repo, "commit-tree", "-p", first["commit"], "-m", "other", f"{first['commit']}^{{tree}}"
    )
    build = GitCommitTool._commit_tree

    async def racing(*args: Any) -> str:
        made = await build(*args)
        git(repo, "update-ref", f"refs/heads/{BRANCH}", other)  # another commit lands now
        return made

    monkeypatch.setattr(GitCommitTool, "_commit_tree", staticmethod(racing))
    (repo / "app.py").write_text("print('v3')\n")
    with pytest.raises(ToolError, match=f"the branch {BRANCH} moved while committing"):
        await GitCommitTool().call({"message": "v3"}, ctx(repo))
    assert git(repo, "rev-parse", BRANCH) == other


async def test_the_projects_hooks_never_run(repo: Path, markers: Path) -> None:
    hooks = repo / ".git" / "hooks"
    for name in ("pre-commit", "commit-msg", "post-commit", "reference-transaction"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\ntouch '{markers}/{name}'\n")
        hook.chmod(0o755)
    git(repo, "config", "core.hooksPath", str(hooks))  # even when the config names them
    (repo / "app.py").write_text("print('v2')\n")
    git(repo, "update-ref", "refs/heads/probe", "HEAD")  # the hooks work for the user's git
    assert (markers / "reference-transaction").exists()
    (markers / "reference-transaction").unlink()

    answer = await call(GitCommitTool(), repo, message="v2")
    await call(GitStatusTool(), repo)
    await call(GitDiffTool(), repo)

    assert answer["committed"]
    assert ran(markers) == []


async def test_the_first_commit_of_an_empty_repository_has_no_parent() -> None:
    with scratch_dir("swarmyard-empty-repo-") as path:
        git(path, "init", "-q", "-b", "main")
        nothing = await call(GitCommitTool(), path, message="empty")
        assert not nothing["committed"]
        (path / "README.md").write_text("hello\n")
        answer = await call(GitCommitTool(), path, message="start")
        assert answer["parent"] is None
        assert answer["files_changed"] == [{"status": "A", "path": "README.md"}]
        assert git(path, "rev-parse", "--verify", "-q", "HEAD", check=False) == ""
        assert git(path, "status", "--porcelain") == "?? README.md"


async def test_a_project_in_a_subdirectory_commits_only_its_own_changes(repo: Path) -> None:
    (repo / "service").mkdir()
    (repo / "service" / "main.py").write_text("v1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "service")
    (repo / "service" / "main.py").write_text("v2\n")
    (repo / "app.py").write_text("the user's own edit\n")

    answer = await call(GitCommitTool(), repo / "service", message="service v2")

    assert answer["files_changed"] == [{"status": "M", "path": "main.py"}]
    assert git(repo, "show", f"{BRANCH}:app.py") == "print('v1')"
    status = await call(GitStatusTool(), repo / "service")
    assert status["changes"] == [{"status": " M", "path": "main.py"}]


async def test_commit_needs_a_message(repo: Path) -> None:
    with pytest.raises(ToolError, match=r"git\.commit needs message"):
        await GitCommitTool().call({"message": "  "}, ctx(repo))


# --- git.status ----------------------------------------------------------------


async def test_status_shows_the_working_tree_and_the_task_branch(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    clean = await call(GitStatusTool(), repo)
    assert clean == {
        "branch": "main",
        "head": head,
        "clean": True,
        "changes": [],
        "truncated": False,
        "task_branch": {"name": BRANCH, "exists": False, "commit": None},
    }
    (repo / "app.py").write_text("print('v2')\n")
    (repo / "notes.md").write_text("n\n")
    git(repo, "mv", ".gitignore", "ignore-rules")
    index = (repo / ".git" / "index").read_bytes()
    made = await call(GitCommitTool(), repo, message="v2")

    status = await call(GitStatusTool(), repo)

    assert status["changes"] == [
        {"status": " M", "path": "app.py"},
        {"status": "R ", "path": "ignore-rules", "from": ".gitignore"},
        {"status": "??", "path": "notes.md"},
    ]
    assert not status["clean"]
    assert status["task_branch"] == {
        "name": BRANCH,
        "exists": True,
        "commit": made["commit"],
        "subject": "v2",
        "commits_ahead_of_head": 1,
    }
    assert (repo / ".git" / "index").read_bytes() == index


# --- git.diff ------------------------------------------------------------------


async def test_diff_against_head_for_the_tree_or_a_path(repo: Path) -> None:
    (repo / "app.py").write_text("print('v2')\n")
    (repo / ".gitignore").write_text("*.log\n*.tmp\n")
    (repo / "new.txt").write_text("n\n")
    answer = await call(GitDiffTool(), repo)
    assert answer["base"] == "HEAD"
    assert answer["base_commit"] == git(repo, "rev-parse", "HEAD")
    assert "-print('v1')\n+print('v2')" in answer["diff"]
    assert "+*.tmp" in answer["diff"]
    assert answer["untracked"] == ["new.txt"]
    assert not answer["truncated"]
    one = await call(GitDiffTool(), repo, path="app.py")
    assert "app.py" in one["diff"]
    assert ".gitignore" not in one["diff"]
    assert one["untracked"] == []
    stat = await call(GitDiffTool(), repo, stat=True)
    assert "2 files changed" in stat["diff"]
    cut = await call(GitDiffTool(), repo, max_chars=20)
    assert len(cut["diff"]) == 20
    assert cut["truncated"]


async def test_diff_against_the_task_branch_shows_what_a_commit_would_add(repo: Path) -> None:
    with pytest.raises(ToolError, match=f"the task branch {BRANCH} does not exist yet"):
        await GitDiffTool().call({"against": "task_branch"}, ctx(repo))
    (repo / "app.py").write_text("print('v2')\n")
    await call(GitCommitTool(), repo, message="v2")
    (repo / "app.py").write_text("print('v3')\n")
    answer = await call(GitDiffTool(), repo, against="task_branch")
    assert answer["base"] == BRANCH
    assert "-print('v2')\n+print('v3')" in answer["diff"]


async def test_diff_paths_are_confined_and_taken_literally(repo: Path) -> None:
    with scratch_dir("swarmyard-outside-") as outside:
        with pytest.raises(ToolError, match="outside the project's working directory"):
            await GitDiffTool().call({"path": str(outside)}, ctx(repo))
        with pytest.raises(ToolError, match="outside the project's working directory"):
            await GitDiffTool().call({"path": "../"}, ctx(repo))
    with pytest.raises(ToolError, match=r"does not look inside \.git"):
        await GitDiffTool().call({"path": ".git/config"}, ctx(repo))
    (repo / "app.py").write_text("print('v2')\n")
    star = await call(GitDiffTool(), repo, path="*.py")  # no file is named '*.py'
    assert star["diff"] == ""
    with pytest.raises(ToolError, match="against must be 'head' or 'task_branch'"):
        await GitDiffTool().call({"against": "main"}, ctx(repo))

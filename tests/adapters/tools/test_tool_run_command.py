"""The sandbox.run tool (RunCommandTool): what it asks of the sandbox, what it answers, and
one real run in bubblewrap (skipped without it) against a read-only project."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmyard.adapters.sandbox import ScriptedSandbox, result
from swarmyard.adapters.tools import RunCommandTool
from swarmyard.ports import Tool, ToolContext, ToolError
from swarmyard.ports.sandbox import EndReason, SandboxLimits
from swarmyard.testing.sandbox import bubblewrap_or_reason, scratch_dir
from swarmyard.testing.skips import unavailable


@pytest.fixture
def root() -> Iterator[Path]:
    with scratch_dir("swarmyard-scratch-root-") as path:
        yield path


@pytest.fixture
def project() -> Iterator[Path]:
    with scratch_dir("swarmyard-project-") as path:
        path.chmod(0o755)
        (path / "app.txt").write_text("version 1\n")
        (path / "app.txt").chmod(0o644)
        yield path


def ctx(workdir: Path | None = None, *, unsandboxed: bool = False) -> ToolContext:
    return ToolContext(
        "ws",
        "run/1",
        "task-1",
        "developer",
        workdir=str(workdir) if workdir else None,
        unsandboxed_allowed=unsandboxed,
    )


def test_it_is_a_command_tool_that_tells_the_gate_whether_it_is_sandboxed(root: Path) -> None:
    tool: Tool = RunCommandTool(ScriptedSandbox(), scratch_root=root)
    assert tool.spec.name == "sandbox.run"
    assert tool.spec.effects == frozenset({"command", "reads_private"})
    assert RunCommandTool(ScriptedSandbox(), scratch_root=root).sandboxed
    assert not RunCommandTool(ScriptedSandbox(isolated=False), scratch_root=root).sandboxed


async def test_it_runs_the_line_with_sh_in_the_project_with_a_fresh_scratch(
    root: Path, project: Path
) -> None:
    sandbox = ScriptedSandbox(lambda _: result("ok\n", exit_code=0))
    tool = RunCommandTool(sandbox, scratch_root=root, limits=SandboxLimits(wall_seconds=30))
    answer = json.loads(
        await tool.call({"command": "make test", "timeout_seconds": 5}, ctx(project))
    )
    assert answer["stdout"] == "ok\n"
    assert answer["exit_code"] == 0
    (command,) = sandbox.commands
    assert command.argv == ("/bin/sh", "-c", "make test")
    assert command.cwd == project
    assert command.scratch.parent == root
    assert command.env["SCRATCH"] == str(command.scratch)
    assert command.limits.wall_seconds == 5
    assert not command.allow_unsandboxed
    assert not command.scratch.exists()  # removed after the call
    assert _mode(root) == 0o711


async def test_the_time_limit_cannot_be_raised_past_the_tools(root: Path) -> None:
    sandbox = ScriptedSandbox()
    tool = RunCommandTool(sandbox, scratch_root=root, limits=SandboxLimits(wall_seconds=10))
    await tool.call({"command": "true", "timeout_seconds": 999}, ctx())
    assert sandbox.commands[0].limits.wall_seconds == 10
    assert sandbox.commands[0].cwd is None  # no project directory: it starts in scratch


async def test_a_timeout_is_reported_not_raised(root: Path) -> None:
    timed_out = result("partial", exit_code=137, reason=EndReason.TIMEOUT, signal=9)
    tool = RunCommandTool(ScriptedSandbox(lambda _: timed_out), scratch_root=root)
    answer = json.loads(await tool.call({"command": "sleep 100"}, ctx()))
    assert (answer["reason"], answer["killed"], answer["stdout"]) == ("timeout", True, "partial")


async def test_without_a_sandbox_it_refuses_unless_the_policy_allowed_it(root: Path) -> None:
    sandbox = ScriptedSandbox(isolated=False)
    tool = RunCommandTool(sandbox, scratch_root=root)
    with pytest.raises(ToolError, match="no sandbox"):
        await tool.call({"command": "true"}, ctx())
    await tool.call({"command": "true"}, ctx(unsandboxed=True))
    assert sandbox.commands[0].allow_unsandboxed


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"command": "  "},
        {"command": 3},
        {"command": "x" * 10_001},
        {"command": "true", "timeout_seconds": 0},
    ],
)
async def test_bad_arguments_are_refused(root: Path, args: dict[str, object]) -> None:
    sandbox = ScriptedSandbox()
    with pytest.raises(ToolError):
        await RunCommandTool(sandbox, scratch_root=root).call(args, ctx())
    assert sandbox.commands == []


async def test_a_missing_project_directory_is_refused(root: Path, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="does not exist"):
        await RunCommandTool(ScriptedSandbox(), scratch_root=root).call(
            {"command": "true"}, ctx(tmp_path / "gone")
        )


async def test_in_bubblewrap_it_reads_the_project_writes_scratch_and_changes_nothing(
    root: Path, project: Path
) -> None:
    sandbox = bubblewrap_or_reason()
    if isinstance(sandbox, str):
        unavailable(sandbox)
    tool = RunCommandTool(sandbox, scratch_root=root)
    line = 'cat app.txt; cp app.txt "$SCRATCH/copy" && cat "$SCRATCH/copy"; echo v2 > app.txt'
    answer = json.loads(await tool.call({"command": line}, ctx(project)))
    assert answer["stdout"] == "version 1\nversion 1\n"
    assert "Read-only file system" in answer["stderr"] or "Permission denied" in answer["stderr"]
    assert answer["sandbox"] == "bubblewrap"
    assert (project / "app.txt").read_text() == "version 1\n"
    assert _entries(root) == []


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _entries(path: Path) -> list[Path]:
    return list(path.iterdir())

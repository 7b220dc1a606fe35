"""`sandbox.run`: run a shell command in the sandbox.

The command starts in the project's working directory, which it can read
but not change; it writes into a scratch directory of its own ($SCRATCH,
also $HOME and $TMPDIR), removed when the command ends. In a real sandbox
it has no network. The tool tells the policy gate whether it runs in one
(`sandboxed`): on a host without a sandbox the gate refuses it unless a
policy allows unsandboxed commands, and the sandbox itself refuses again
unless the call says the policy allowed it.

A resumed run may call it again; with a read-only project and a fresh
scratch directory a repeat changes nothing on the host.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...ports import ToolContext, ToolError, ToolSpec
from ...ports.sandbox import Sandbox, SandboxCommand, SandboxError, SandboxLimits, SandboxResult

__all__ = ["RunCommandTool"]

MAX_COMMAND_CHARS = 10_000
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class RunCommandTool:
    def __init__(
        self,
        sandbox: Sandbox,
        *,
        scratch_root: Path | None = None,
        limits: SandboxLimits | None = None,
        hidden: Sequence[Path] = (),
    ) -> None:
        self._sandbox = sandbox
        self._root = scratch_root or Path(tempfile.gettempdir()) / "swarmyard-scratch"
        self._limits = limits or SandboxLimits(wall_seconds=120)
        self._hidden = tuple(hidden)  # e.g. the platform's data directory
        wall = self._limits.wall_seconds
        self.spec = ToolSpec(
            name="sandbox.run",
            description=(
                "Run a shell command (sh -c) in a sandbox. It starts in the project's "
                "directory, read-only; write files under $SCRATCH (also $HOME), which is "
                "removed afterwards. No network. Returns exit code, stdout and stderr "
                f"(cut when long), and why it stopped (timeout after at most {wall:g} s, "
                "CPU, memory, ...)."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "The shell command line"},
                    "timeout_seconds": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": wall,
                        "description": f"Wall-time limit (at most {wall:g})",
                    },
                },
                "required": ["command"],
                "additionalProperties": False,
            },
            effects=frozenset({"command", "reads_private"}),
        )

    @property
    def sandboxed(self) -> bool:
        """Read by the policy gate: whether commands run isolated on this host."""
        return self._sandbox.isolated

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        line = args.get("command")
        if not isinstance(line, str) or not line.strip():
            raise ToolError("sandbox.run needs command")
        if len(line) > MAX_COMMAND_CHARS:
            raise ToolError(f"the command is longer than {MAX_COMMAND_CHARS} characters")
        limits = replace(self._limits, wall_seconds=self._wall(args.get("timeout_seconds")))
        cwd = self._workdir(ctx)
        scratch = self._scratch(ctx)
        try:
            result = await self._sandbox.run(
                SandboxCommand(
                    argv=("/bin/sh", "-c", line),
                    scratch=scratch,
                    cwd=cwd,
                    env={"SCRATCH": str(scratch)},
                    limits=limits,
                    hidden=self._hidden,
                    allow_unsandboxed=ctx.unsandboxed_allowed,
                )
            )
        except SandboxError as exc:
            raise ToolError(str(exc)) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return json.dumps(_answer(result))

    def _wall(self, value: object) -> float:
        ceiling = self._limits.wall_seconds
        if value is None:
            return ceiling
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ToolError("timeout_seconds must be a positive number")
        return min(float(value), ceiling)

    @staticmethod
    def _workdir(ctx: ToolContext) -> Path | None:
        if not ctx.workdir:
            return None
        path = Path(ctx.workdir)
        if not path.is_dir():
            raise ToolError(f"the project's working directory {path} does not exist")
        return path

    def _scratch(self, ctx: ToolContext) -> Path:
        # Others may pass through the root (a sandbox user must reach its own
        # directory in it) but not list it.
        self._root.mkdir(parents=True, exist_ok=True)
        self._root.chmod(0o711)
        prefix = _UNSAFE.sub("_", ctx.run_id)[:40] or "run"
        return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=self._root))


def _answer(result: SandboxResult) -> dict[str, Any]:
    return {
        "exit_code": result.exit_code,
        "reason": result.reason.value,
        "killed": result.killed,
        "signal": result.signal,
        "stdout": result.stdout,
        "stderr": result.stderr,
        "stdout_truncated": result.stdout_truncated,
        "stderr_truncated": result.stderr_truncated,
        "duration_seconds": result.duration_seconds,
        "sandbox": result.sandbox,
    }

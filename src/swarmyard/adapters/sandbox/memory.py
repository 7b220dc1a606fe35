"""A scripted sandbox for tests of the tools that use one: it runs nothing.

It records every command and answers with the results it was given (or a
plain success), so a tool's handling of timeouts, truncation and refusals
is tested without starting a process.
"""

from __future__ import annotations

from collections.abc import Callable

from ...ports.sandbox import (
    EndReason,
    SandboxCommand,
    SandboxResult,
    SandboxUnavailable,
)

__all__ = ["ScriptedSandbox", "result"]


def result(
    stdout: str = "",
    *,
    exit_code: int = 0,
    stderr: str = "",
    reason: EndReason = EndReason.EXITED,
    signal: int | None = None,
    sandbox: str = "scripted",
) -> SandboxResult:
    return SandboxResult(
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr,
        stdout_truncated=False,
        stderr_truncated=False,
        reason=reason,
        signal=signal,
        duration_seconds=0.0,
        sandbox=sandbox,
    )


class ScriptedSandbox:
    """`isolated=False` plays a host without a sandbox: it refuses commands
    unless they allow running unsandboxed, as `UnavailableSandbox` does."""

    def __init__(
        self,
        answer: Callable[[SandboxCommand], SandboxResult] | None = None,
        *,
        isolated: bool = True,
    ) -> None:
        self.name = "scripted"
        self.isolated = isolated
        self._answer = answer or (lambda _: result())
        self.commands: list[SandboxCommand] = []

    async def run(self, command: SandboxCommand) -> SandboxResult:
        if not self.isolated and not command.allow_unsandboxed:
            raise SandboxUnavailable("no sandbox is available (scripted)")
        self.commands.append(command)
        return self._answer(command)

"""The sandbox of a host that has none: it refuses, unless a policy allows going without.

Refusing is the default because a command an agent wrote may have been
written by whoever controls the text the agent read. A policy that sets
`allow_unsandboxed` (and no policy requiring a sandbox) accepts that risk;
the command then runs unsandboxed and its result says so.
"""

from __future__ import annotations

from ...ports.sandbox import Sandbox, SandboxCommand, SandboxResult, SandboxUnavailable
from .unsandboxed import UnsandboxedRunner

__all__ = ["UnavailableSandbox"]


class UnavailableSandbox:
    name = "none"
    isolated = False

    def __init__(self, why: str, *, fallback: Sandbox | None = None) -> None:
        self.why = why  # why there is no sandbox, for the refusal
        self._fallback = fallback or UnsandboxedRunner()

    async def run(self, command: SandboxCommand) -> SandboxResult:
        if not command.allow_unsandboxed:
            raise SandboxUnavailable(
                f"no sandbox is available on this host ({self.why}), and no policy "
                "allows running commands without one (allow_unsandboxed)"
            )
        return await self._fallback.run(command)

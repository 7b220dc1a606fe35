"""A sandbox chosen on first use.

Choosing one probes the host (bubblewrap is started once to see that it
works); every process that builds a platform would pay for that probe,
though most never run a command. So the platform's default `sandbox.run`
holds this, which chooses when a run first needs to know.
"""

from __future__ import annotations

from collections.abc import Callable

from ...ports.sandbox import Sandbox, SandboxCommand, SandboxResult

__all__ = ["LazySandbox"]


class LazySandbox:
    def __init__(self, choose: Callable[[], Sandbox]) -> None:
        self._choose = choose
        self._chosen: Sandbox | None = None

    @property
    def chosen(self) -> Sandbox:
        if self._chosen is None:
            self._chosen = self._choose()
        return self._chosen

    @property
    def name(self) -> str:
        return self.chosen.name

    @property
    def isolated(self) -> bool:
        return self.chosen.isolated

    async def run(self, command: SandboxCommand) -> SandboxResult:
        return await self.chosen.run(command)

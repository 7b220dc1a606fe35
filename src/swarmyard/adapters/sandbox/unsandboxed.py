"""Running a command on the host with resource limits only: no sandbox.

The name says it: the command sees the network and the whole file system
with the platform's permissions. It is used only when a host has no sandbox
and a policy explicitly allows commands without one (or an operator forces
it). Its process group is killed at the wall-time limit; a process that
leaves the group (setsid) escapes that kill, which only a real sandbox's
pid namespace prevents.
"""

from __future__ import annotations

import shutil

from ...ports.sandbox import SandboxCommand, SandboxResult
from ._limits import set_in_child
from ._process import Spawn, base_env, check_dirs, not_found, run_process

__all__ = ["UnsandboxedRunner"]


class UnsandboxedRunner:
    name = "unsandboxed"
    isolated = False

    async def run(self, command: SandboxCommand) -> SandboxResult:
        check_dirs(command)
        env = base_env(command.scratch, command.env)
        cwd = command.cwd or command.scratch
        # Looked up as the shell would, so a missing program is exit 127 here
        # as inside a sandbox, not an error of the runner.
        program = command.argv[0]
        if "/" in program:
            program = str(cwd / program)  # relative to the command's directory, not ours
        if shutil.which(program, path=env["PATH"]) is None:
            return not_found(command.argv[0], sandbox=self.name)
        spawn = Spawn(
            argv=command.argv,
            env=env,
            cwd=cwd,
            limits=command.limits,
            stdin=command.stdin,
            preexec_fn=set_in_child(command.limits),
        )
        return await run_process(spawn, sandbox=self.name)

"""The bubblewrap sandbox (Linux): namespaces without a daemon or root.

The command gets new namespaces of every kind bubblewrap supports (so no
network: only a loopback interface of its own), the host's file system
read-only, fresh /dev, /proc, /tmp and /run (the last two hide the host's
Unix sockets: a database's, a container engine's), and one writable scratch
directory. Limits are set by `prlimit` inside the sandbox. bubblewrap's pid
namespace means killing its first process ends every process inside, even
those that left the process group.

When the platform runs as root, commands run as an unprivileged user
(`nobody` by default): the kernel never applies the process limit to uid 0,
and a root inside would read every secret of the host file system. The
scratch directory is handed to that user; the working directory, and every
directory above both, must be reachable by it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
from pathlib import Path
from typing import Literal

from ...ports.sandbox import SandboxCommand, SandboxError, SandboxResult
from ._limits import prlimit_argv
from ._process import Spawn, base_env, check_dirs, run_process

__all__ = ["BubblewrapSandbox", "default_run_as"]

RunAs = tuple[int, int] | None


def default_run_as() -> RunAs:
    """(uid, gid) to run commands as: `nobody` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def _blocked_at(path: Path, uid: int, gid: int) -> Path | None:
    """The first directory on the way to `path` that `uid` cannot pass through."""
    for directory in [*reversed(path.parents), path]:
        try:
            st = directory.stat()
        except OSError:
            return directory
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return directory
    return None


class BubblewrapSandbox:
    name = "bubblewrap"
    isolated = True

    def __init__(
        self,
        *,
        bwrap: str | None = None,
        prlimit: str | None = None,
        run_as: RunAs | Literal["auto"] = "auto",
    ) -> None:
        self.bwrap = bwrap or shutil.which("bwrap") or "bwrap"
        self.prlimit = prlimit or shutil.which("prlimit") or "prlimit"
        self.run_as = default_run_as() if run_as == "auto" else run_as

    def argv(self, command: SandboxCommand) -> list[str]:
        """The full command line: bubblewrap, prlimit, then the command."""
        scratch = command.scratch
        cwd = command.cwd or scratch
        limits = command.limits
        args = [
            self.bwrap,
            "--unshare-all",  # user (where possible), ipc, pid, net, uts, cgroup
            "--die-with-parent",
            "--new-session",  # no ioctl(TIOCSTI) into the platform's terminal
            "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--proc", "/proc",
            "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
        ]  # fmt: skip
        for private in ("/run", "/var/run"):
            if Path(private).is_dir() and not Path(private).is_symlink():
                args += ["--tmpfs", private]
        for hidden in command.hidden:
            if hidden.is_dir():
                args += ["--tmpfs", str(hidden)]
            elif hidden.exists():
                args += ["--ro-bind", "/dev/null", str(hidden)]
        # Bound after the hiding mounts: a working directory below /tmp (or a
        # hidden path) stays visible, read-only.
        if not cwd.is_relative_to(scratch):
            args += ["--ro-bind", str(cwd), str(cwd)]
        args += ["--bind", str(scratch), str(scratch), "--chdir", str(cwd), "--"]
        return [*args, *prlimit_argv(limits, self.prlimit), *command.argv]

    def prepare(self, command: SandboxCommand) -> None:
        """Hand the scratch directory to the sandbox user; refuse paths it cannot reach."""
        check_dirs(command)
        scratch = command.scratch
        if self.run_as is None:
            return
        uid, gid = self.run_as
        os.chown(scratch, uid, gid)
        for needed in (scratch, command.cwd or scratch):
            blocked = _blocked_at(needed, uid, gid)
            if blocked is not None:
                raise SandboxError(
                    f"commands run as uid {uid}, which cannot reach {needed}: "
                    f"{blocked} is not open to it (give it o+x, or choose another directory)"
                )

    async def run(self, command: SandboxCommand) -> SandboxResult:
        self.prepare(command)
        uid, gid = self.run_as or (None, None)
        # bubblewrap passes its own environment on; putting the command's
        # there (not in --setenv arguments) keeps values out of `ps`.
        spawn = Spawn(
            argv=self.argv(command),
            env=base_env(command.scratch, command.env),
            cwd=command.scratch,
            limits=command.limits,
            stdin=command.stdin,
            user=uid,
            group=gid,
        )
        return await run_process(spawn, sandbox=self.name)

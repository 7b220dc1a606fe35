"""Port of the sandbox: where a command an agent asked for runs.

A real sandbox gives the command no network, a read-only view of the file
system with one writable scratch directory, and limits on CPU seconds,
memory (address space), processes, file size and wall time. The adapter is
chosen by detection at start-up; when none is available, commands are
refused unless the caller's policy explicitly allows running them without
isolation, and then the runner says so in its name (`isolated` is False).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

__all__ = [
    "EndReason",
    "Sandbox",
    "SandboxCommand",
    "SandboxError",
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailable",
]


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    wall_seconds: float = 60.0  # then the whole process tree is killed
    cpu_seconds: int = 30  # per process (RLIMIT_CPU)
    memory_bytes: int = 1 << 30  # address space per process (RLIMIT_AS)
    processes: int = 64  # processes at once (RLIMIT_NPROC)
    file_bytes: int = 256 << 20  # largest file it may write (RLIMIT_FSIZE)
    output_bytes: int = 64 << 10  # kept of stdout and of stderr each; the rest is dropped
    tmp_bytes: int = 64 << 20  # size of the private /tmp, where the sandbox has one


@dataclass(frozen=True, slots=True)
class SandboxCommand:
    argv: tuple[str, ...]
    # The one writable directory; it must exist. Files the command leaves
    # there stay after it ends (the caller removes the directory).
    scratch: Path
    cwd: Path | None = None  # where it starts; default: `scratch`
    # The whole environment of the command (nothing of the host's leaks in),
    # on top of PATH, HOME (= scratch), TMPDIR and LANG defaults.
    env: Mapping[str, str] = field(default_factory=dict)
    stdin: bytes = b""
    limits: SandboxLimits = SandboxLimits()
    # Paths the command must not see, replaced by empty directories (the
    # platform's data directory, say). Only a real sandbox can hide them.
    hidden: tuple[Path, ...] = ()
    # The caller's policy allows running it without a sandbox when there is
    # none; without this, a host with no sandbox refuses the command.
    allow_unsandboxed: bool = False


class EndReason(StrEnum):
    EXITED = "exited"  # it ended by itself (any exit code)
    TIMEOUT = "timeout"  # past its wall time: killed with its whole process tree
    CPU = "cpu"  # past its CPU seconds (SIGXCPU)
    MEMORY = "memory"  # an allocation was refused; read from its error output
    FILE_SIZE = "file_size"  # it wrote a file past the size limit (SIGXFSZ)
    SIGNAL = "signal"  # another signal ended it


@dataclass(frozen=True, slots=True)
class SandboxResult:
    # Shell convention: 128 + N when signal N ended the command.
    exit_code: int
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    reason: EndReason
    signal: int | None  # the signal that ended it, if one did
    duration_seconds: float
    sandbox: str  # the adapter that ran it: "bubblewrap", "unsandboxed", ...

    @property
    def killed(self) -> bool:
        """A signal ended it, sent by the sandbox or by the kernel for a limit."""
        return self.signal is not None

    @property
    def ok(self) -> bool:
        return self.reason is EndReason.EXITED and self.exit_code == 0


class Sandbox(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def isolated(self) -> bool:
        """True: no network, a read-only root, hidden paths hidden. False: the
        command runs on the host with resource limits only."""
        ...

    async def run(self, command: SandboxCommand) -> SandboxResult:
        """Run to the end or to a limit. A command that fails is a result; a
        command that could not be started raises `SandboxError`, and one
        that may not run here at all raises `SandboxUnavailable`."""
        ...


class SandboxError(Exception):
    """The sandbox could not start the command (a scratch directory it cannot
    reach, a broken sandbox installation); the message names the problem."""


class SandboxUnavailable(SandboxError):
    """No sandbox exists on this host and no policy allows running without one."""

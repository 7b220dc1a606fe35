"""The resource limits of a sandboxed command, as rlimits.

Both runners set the same table: bubblewrap through `prlimit` inside the
sandbox (after its user namespace exists, so the process count is counted
in that namespace: one sandbox's processes, not the whole user's), the
unsandboxed runner in the child before it execs.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from pathlib import Path

from ...ports.sandbox import SandboxLimits

__all__ = ["prlimit_argv", "rlimits", "set_in_child"]


def rlimits(limits: SandboxLimits, *, processes: int | None = None) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) triples. The CPU hard limit is a second past
    the soft one: the soft limit sends SIGXCPU (reported as "cpu"), the
    hard one SIGKILL for a command that ignores it."""
    cpu = max(1, limits.cpu_seconds)
    table = [
        (resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes),
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes),
        (resource.RLIMIT_CORE, 0, 0),  # no core dumps of killed commands in the scratch directory
    ]
    nproc = limits.processes if processes is None else processes
    if nproc > 0:
        table.append((resource.RLIMIT_NPROC, nproc, nproc))
    return [_within_ours(*row) for row in table]


def _within_ours(res: int, soft: int, hard: int) -> tuple[int, int, int]:
    # Children inherit this process's limits, and nobody but root may raise
    # a hard limit: asking for more than ours would fail the command's start.
    _, our_hard = resource.getrlimit(res)
    if our_hard != resource.RLIM_INFINITY:
        hard = min(hard, our_hard)
    return res, min(soft, hard), hard


_PRLIMIT_FLAGS = {
    resource.RLIMIT_AS: "--as",
    resource.RLIMIT_CPU: "--cpu",
    resource.RLIMIT_FSIZE: "--fsize",
    resource.RLIMIT_CORE: "--core",
    resource.RLIMIT_NPROC: "--nproc",
}


def prlimit_argv(limits: SandboxLimits, prlimit: str = "prlimit") -> list[str]:
    """The `prlimit` prefix that sets the limits and then execs the command."""
    flags = [f"{_PRLIMIT_FLAGS[r]}={soft}:{hard}" for r, soft, hard in rlimits(limits)]
    return [prlimit, *flags, "--"]


def _processes_of(uid: int) -> int:
    """How many processes `uid` has now (Linux; 0 where /proc is absent)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    count += int(line.split()[1]) == uid
                    break
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
    return count


def set_in_child(limits: SandboxLimits) -> Callable[[], None]:
    """A preexec function for the unsandboxed runner. RLIMIT_NPROC counts
    every process of the user there, so the limit is the user's current
    count plus the command's allowance (root is exempt from it: the kernel
    does not apply it to uid 0)."""
    uid = os.getuid()
    processes = _processes_of(uid) + limits.processes if uid != 0 else 0
    table = rlimits(limits, processes=processes)

    def apply() -> None:
        for res, soft, hard in table:
            resource.setrlimit(res, (soft, hard))

    return apply

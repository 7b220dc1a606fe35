"""Run one child process under a wall-time limit, with capped output.

The child leads a process group of its own, so a timeout (or a cancelled
run) kills the whole tree it started, not just the first process. Output
beyond the cap is read and dropped, so a chatty command neither blocks on a
full pipe nor fills the platform's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...ports.sandbox import EndReason, SandboxCommand, SandboxError, SandboxLimits, SandboxResult

__all__ = ["Spawn", "base_env", "check_dirs", "not_found", "run_process"]

_CHUNK = 64 << 10
# After the command ends, how long its output may take to drain: a process
# that escaped the group (unsandboxed only) could hold the pipes open forever.
_DRAIN_SECONDS = 2.0
# How a refused allocation shows in the usual runtimes' error output: RLIMIT_AS
# makes malloc fail rather than the kernel kill, so the text is all there is.
_MEMORY_MARKERS = (
    "MemoryError",
    "Cannot allocate memory",
    "std::bad_alloc",
    "out of memory",
    "memory exhausted",
)
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def base_env(scratch: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The command's whole environment: defaults, then the caller's values."""
    return {
        "PATH": _DEFAULT_PATH,
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        **env,
    }


def check_dirs(command: SandboxCommand) -> None:
    if not command.argv:
        raise SandboxError("no command to run")
    for what, path in (("scratch", command.scratch), ("working", command.cwd)):
        if path is not None and not path.is_dir():
            raise SandboxError(f"the {what} directory {path} does not exist")


def not_found(name: str, *, sandbox: str) -> SandboxResult:
    """What a shell answers for a missing command (exit 127), without starting one."""
    return SandboxResult(
        exit_code=127,
        stdout="",
        stderr=f"{name}: command not found\n",
        stdout_truncated=False,
        stderr_truncated=False,
        reason=EndReason.EXITED,
        signal=None,
        duration_seconds=0.0,
        sandbox=sandbox,
    )


@dataclass(frozen=True, slots=True)
class Spawn:
    """How to start the child: what the runner built around the command."""

    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    limits: SandboxLimits
    stdin: bytes = b""
    preexec_fn: Callable[[], None] | None = None
    user: int | None = None
    group: int | None = None


class _Capture:
    """One output stream: the first `cap` bytes kept, the rest counted as dropped."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.dropped = False

    async def pump(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(_CHUNK):
            room = self.cap - len(self.kept)
            if len(chunk) > room:
                self.kept += chunk[:room]
                self.dropped = True
            else:
                self.kept += chunk

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")


async def _feed(stream: asyncio.StreamWriter | None, data: bytes) -> None:
    if stream is None:
        return
    # A command that exits without reading its input is not an error.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stream.write(data)
        await stream.drain()
        stream.close()
        await stream.wait_closed()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def _start(spawn: Spawn) -> asyncio.subprocess.Process:
    ids: dict[str, object] = {}
    if spawn.user is not None:
        ids = {"user": spawn.user, "group": spawn.group, "extra_groups": []}
    try:
        return await asyncio.create_subprocess_exec(
            *spawn.argv,
            stdin=asyncio.subprocess.PIPE if spawn.stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=spawn.cwd,
            env=dict(spawn.env),
            process_group=0,
            preexec_fn=spawn.preexec_fn,
            **ids,  # type: ignore[arg-type]  # Popen's user/group keywords
        )
    except OSError as exc:
        raise SandboxError(f"could not start {spawn.argv[0]}: {exc.strerror or exc}") from None


async def _wait(proc: asyncio.subprocess.Process, seconds: float) -> bool:
    """Wait for the child; past `seconds` kill its group. True if it timed out."""
    try:
        async with asyncio.timeout(seconds):
            await proc.wait()
        return False
    except TimeoutError:
        _kill_group(proc.pid)
        await proc.wait()
        return True
    finally:
        if proc.returncode is None:  # the caller was cancelled: leave nothing running
            _kill_group(proc.pid)
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(proc.wait()), _DRAIN_SECONDS)


async def _drain(tasks: list[asyncio.Task[None]]) -> None:
    _, pending = await asyncio.wait(tasks, timeout=_DRAIN_SECONDS)
    for task in pending:
        task.cancel()


async def run_process(spawn: Spawn, *, sandbox: str) -> SandboxResult:
    started = time.monotonic()
    proc = await _start(spawn)
    out, err = _Capture(spawn.limits.output_bytes), _Capture(spawn.limits.output_bytes)
    pumps = [asyncio.create_task(out.pump(proc.stdout)), asyncio.create_task(err.pump(proc.stderr))]
    feeder = asyncio.create_task(_feed(proc.stdin, spawn.stdin))
    try:
        timed_out = await _wait(proc, spawn.limits.wall_seconds)
    finally:
        feeder.cancel()
        await _drain(pumps)
    stderr = err.text()
    code, sig, reason = _classify(proc.returncode or 0, timed_out, stderr)
    return SandboxResult(
        exit_code=code,
        stdout=out.text(),
        stderr=stderr,
        stdout_truncated=out.dropped,
        stderr_truncated=err.dropped,
        reason=reason,
        signal=sig,
        duration_seconds=round(time.monotonic() - started, 3),
        sandbox=sandbox,
    )


def _classify(returncode: int, timed_out: bool, stderr: str) -> tuple[int, int | None, EndReason]:
    """(exit code, signal, reason). A signal shows as a negative return code
    for a direct child, and as 128 + N behind a shell or bubblewrap, which
    report their child's death that way."""
    sig: int | None = None
    if returncode < 0:
        sig = -returncode
    elif 128 < returncode <= 128 + 64:
        sig = returncode - 128
    code = 128 + sig if sig is not None else returncode
    if timed_out:
        return code, sig or signal.SIGKILL, EndReason.TIMEOUT
    if sig == signal.SIGXCPU:
        return code, sig, EndReason.CPU
    if sig == signal.SIGXFSZ:
        return code, sig, EndReason.FILE_SIZE
    if sig is not None:
        return code, sig, EndReason.SIGNAL
    if code != 0 and any(marker in stderr for marker in _MEMORY_MARKERS):
        return code, None, EndReason.MEMORY
    return code, None, EndReason.EXITED

"""Conformance suite of the Sandbox port: bubblewrap, the unsandboxed
runner and the Kubernetes Job runner run commands alike (exit codes,
output, caps, limits, environment). What only a real sandbox contains
(network, file system, processes) is in tests/adapters/sandbox. bubblewrap
skips without it, unless SWARMYARD_REQUIRE_SERVICES=1.

The Kubernetes runner runs against a loopback API server whose kubelet
runs each pod's command as a local process (swarmyard.testing.kubernetes):
what is checked is the runner's side of the protocol, from the Job it
creates to the result, and that a deadline or a cancelled run ends the
command. `KUBERNETES_DIFFERS` lists the tests that do not apply to it, and
why; tests/adapters/sandbox/test_sandbox_kubernetes.py covers those cases
its own way."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from swarmyard.adapters.sandbox import UnsandboxedRunner
from swarmyard.ports.sandbox import (
    EndReason,
    Sandbox,
    SandboxCommand,
    SandboxError,
    SandboxLimits,
)
from swarmyard.testing.kubernetes import FakeKubernetes, ProcessKubelet
from swarmyard.testing.sandbox import SYSTEM_PYTHON, bubblewrap_or_reason, scratch_dir
from swarmyard.testing.skips import unavailable

PY = SYSTEM_PYTHON or "python3"
needs_python = pytest.mark.skipif(SYSTEM_PYTHON is None, reason="no python3 in /usr/bin")

KUBERNETES_DIFFERS = {
    "test_output_and_scratch_files": "a container's log merges stdout and stderr, "
    "and the pod's scratch volume is discarded",
    "test_input_is_given_on_stdin": "a Job has no input stream (refused)",
    "test_a_large_allocation_fails_as_memory": "memory is a cgroup limit: the kernel kills "
    "(OOMKilled) instead of refusing the allocation",
    "test_cpu_seconds_are_limited": "CPU seconds become a CPU rate; nothing ends the command",
    "test_file_size_is_limited": "scratch is an emptyDir of the pod, evicted past its size",
}


@pytest.fixture(params=["bubblewrap", "unsandboxed", "kubernetes"])
async def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Sandbox]:
    if request.param == "unsandboxed":
        yield UnsandboxedRunner()
    elif request.param == "kubernetes":
        differs = KUBERNETES_DIFFERS.get(request.node.originalname)
        if differs:
            pytest.skip(f"not for Kubernetes Jobs: {differs}")
        async with FakeKubernetes(ProcessKubelet()) as fake:
            yield fake.sandbox(tmp_path / "serviceaccount")
            assert fake.jobs == {}
    else:
        found = bubblewrap_or_reason()
        if isinstance(found, str):
            unavailable(found)
        yield found


@pytest.fixture
def scratch() -> Iterator[Path]:
    with scratch_dir() as path:
        yield path


def run(scratch: Path, *argv: str, stdin: bytes = b"", **limits: float) -> SandboxCommand:
    return SandboxCommand(
        argv=argv,
        scratch=scratch,
        stdin=stdin,
        limits=SandboxLimits(**limits),  # type: ignore[arg-type]
    )


async def test_output_and_scratch_files(sandbox: Sandbox, scratch: Path) -> None:
    result = await sandbox.run(run(scratch, "sh", "-c", "echo out; echo err >&2; pwd > where"))
    assert (result.exit_code, result.reason, result.signal) == (0, EndReason.EXITED, None)
    assert (result.stdout, result.stderr) == ("out\n", "err\n")
    assert (scratch / "where").read_text().strip() == str(scratch)
    assert result.sandbox == sandbox.name


async def test_an_exit_code_is_a_result(sandbox: Sandbox, scratch: Path) -> None:
    result = await sandbox.run(run(scratch, "sh", "-c", "exit 3"))
    assert (result.exit_code, result.reason, result.ok) == (3, EndReason.EXITED, False)


async def test_a_missing_program_is_exit_127(sandbox: Sandbox, scratch: Path) -> None:
    result = await sandbox.run(run(scratch, "no-such-program-here"))
    assert result.exit_code == 127
    assert "no-such-program-here" in result.stderr


async def test_output_past_the_cap_is_dropped(sandbox: Sandbox, scratch: Path) -> None:
    result = await sandbox.run(
        run(scratch, "sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a", output_bytes=1000)
    )
    assert result.ok
    assert (len(result.stdout), result.stdout_truncated, result.stderr_truncated) == (
        1000,
        True,
        False,
    )


async def test_input_is_given_on_stdin(sandbox: Sandbox, scratch: Path) -> None:
    result = await sandbox.run(run(scratch, "cat", stdin=b"piped in"))
    assert result.stdout == "piped in"


async def test_the_environment_is_only_what_the_caller_gives(
    sandbox: Sandbox, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWARMYARD_HOST_ONLY", "secret")
    command = SandboxCommand(
        argv=("sh", "-c", 'echo "[$SWARMYARD_HOST_ONLY][$GIVEN][$HOME]"'),
        scratch=scratch,
        env={"GIVEN": "yes"},
    )
    result = await sandbox.run(command)
    assert result.stdout == f"[][yes][{scratch}]\n"


async def test_past_the_wall_time_the_whole_process_group_is_killed(
    sandbox: Sandbox, scratch: Path
) -> None:
    marker = f"3600.{random.randrange(10**9)}"
    result = await sandbox.run(
        run(scratch, "sh", "-c", f"sleep {marker} & sleep {marker}; echo never", wall_seconds=1)
    )
    assert (result.reason, result.killed) == (EndReason.TIMEOUT, True)
    assert "never" not in result.stdout
    await asyncio.sleep(0.3)
    assert _alive(marker) == []


async def test_a_cancelled_run_leaves_nothing_running(sandbox: Sandbox, scratch: Path) -> None:
    marker = f"3600.{random.randrange(10**9)}"
    task = asyncio.create_task(sandbox.run(run(scratch, "sleep", marker, wall_seconds=60)))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.3)
    assert _alive(marker) == []


@needs_python
async def test_a_large_allocation_fails_as_memory(sandbox: Sandbox, scratch: Path) -> None:
    result = await sandbox.run(
        run(scratch, PY, "-c", "b = bytearray(2 * 1024**3)", memory_bytes=512 << 20)
    )
    assert (result.exit_code, result.reason) == (1, EndReason.MEMORY)


@needs_python
async def test_cpu_seconds_are_limited(sandbox: Sandbox, scratch: Path) -> None:
    result = await sandbox.run(run(scratch, PY, "-c", "while True: pass", cpu_seconds=1))
    assert (result.reason, result.killed) == (EndReason.CPU, True)
    assert result.duration_seconds < 10


async def test_file_size_is_limited(sandbox: Sandbox, scratch: Path) -> None:
    result = await sandbox.run(
        run(scratch, "sh", "-c", "head -c 1000000 /dev/zero > big", file_bytes=100_000)
    )
    assert result.reason is EndReason.FILE_SIZE
    assert (scratch / "big").stat().st_size <= 100_000


async def test_a_missing_scratch_directory_is_an_error(sandbox: Sandbox, scratch: Path) -> None:
    with pytest.raises(SandboxError, match="does not exist"):
        await sandbox.run(run(scratch / "missing", "true"))
    with pytest.raises(SandboxError, match="no command"):
        await sandbox.run(SandboxCommand(argv=(), scratch=scratch))


def _alive(marker: str) -> list[Path]:
    """Processes on the host whose command line carries `marker`."""
    return [p for p in Path("/proc").glob("[0-9]*/cmdline") if marker.encode() in _read(p)]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""

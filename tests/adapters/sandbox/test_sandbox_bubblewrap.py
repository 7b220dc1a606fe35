"""What the bubblewrap sandbox contains: network, file system, processes,
memory and time. Each test runs real commands in it on this machine (and
skips without bubblewrap, unless SWARMYARD_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from swarmyard.adapters.sandbox import BubblewrapSandbox, UnsandboxedRunner
from swarmyard.ports.sandbox import EndReason, SandboxCommand, SandboxError, SandboxLimits
from swarmyard.testing.sandbox import SYSTEM_PYTHON, scratch_dir

needs_python = pytest.mark.skipif(SYSTEM_PYTHON is None, reason="no python3 in /usr/bin")
PY = SYSTEM_PYTHON or "python3"


def command(scratch: Path, *argv: str, **limits: float) -> SandboxCommand:
    return SandboxCommand(argv=argv, scratch=scratch, limits=SandboxLimits(**limits))  # type: ignore[arg-type]


def survivors(token: str) -> list[int]:
    """Processes on the host whose command line carries `token`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if token.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
    return found


@pytest.fixture
async def listener() -> AsyncIterator[int]:
    """A TCP server on the host's loopback that accepts anyone."""

    async def accept(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"connected\n")
        w.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


CONNECT = """
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    socket.create_connection((host, port), timeout=3).recv(20)
    print("connected")
except OSError as exc:
    print("refused:", exc)
"""


@needs_python
async def test_a_command_has_no_network(
    bubblewrap: BubblewrapSandbox, scratch: Path, listener: int
) -> None:
    # The same probe outside the sandbox reaches the server: the server works.
    outside = await UnsandboxedRunner().run(
        command(scratch, PY, "-c", CONNECT, "127.0.0.1", str(listener))
    )
    assert outside.stdout.strip() == "connected"
    for host, port in (("127.0.0.1", listener), ("192.0.2.1", 80), ("1.1.1.1", 443)):
        inside = await bubblewrap.run(command(scratch, PY, "-c", CONNECT, host, str(port)))
        assert inside.stdout.startswith("refused:"), (host, inside)


@needs_python
async def test_the_hosts_unix_sockets_in_tmp_are_out_of_reach(
    bubblewrap: BubblewrapSandbox, scratch: Path
) -> None:
    with scratch_dir("swarmyard-socket-") as sockets:
        sockets.chmod(0o755)
        path = sockets / "service.sock"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        path.chmod(0o777)
        server.listen()
        try:
            probe = "import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])"
            result = await bubblewrap.run(command(scratch, PY, "-c", probe, str(path)))
        finally:
            server.close()
    assert result.exit_code == 1
    assert "No such file or directory" in result.stderr


async def test_writing_outside_the_scratch_directory_fails(
    bubblewrap: BubblewrapSandbox, scratch: Path, project: Path
) -> None:
    token = f"swarmyard-probe-{random.randrange(10**9)}"
    targets = [
        Path("/etc") / token,
        project / token,
        Path.home() / token,
        Path("/var/tmp") / token,
        Path("/tmp") / token,  # the sandbox's /tmp is its own: nothing lands in the host's
    ]
    script = "; ".join(f"echo x > {t} && echo wrote {t}" for t in targets)
    result = await bubblewrap.run(
        SandboxCommand(argv=("sh", "-c", f"{script}; echo done"), scratch=scratch, cwd=project)
    )
    assert result.stdout.splitlines()[-1] == "done"
    for target in targets:
        assert not target.exists(), target
    assert (
        result.stderr.count("Read-only file system") + result.stderr.count("Permission denied") >= 4
    )
    assert not (project / token).exists()


async def test_a_successful_command_writes_into_scratch_and_its_output_is_returned(
    bubblewrap: BubblewrapSandbox, scratch: Path, project: Path
) -> None:
    result = await bubblewrap.run(
        SandboxCommand(
            argv=("sh", "-c", 'cat README; echo built > "$SCRATCH/out.txt"; cat "$HOME/out.txt"'),
            scratch=scratch,
            cwd=project,
            env={"SCRATCH": str(scratch)},
        )
    )
    assert result.ok
    assert result.stdout == "the project\nbuilt\n"
    assert (scratch / "out.txt").read_text() == "built\n"
    assert result.sandbox == "bubblewrap"
    assert not result.killed


FORKS = """
import os, sys, time
started = refused = 0
for _ in range(10_000):
    try:
        pid = os.fork()
    except OSError:
        refused += 1
        continue
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    started += 1
print("started", started, "refused", refused, flush=True)
time.sleep(60)
"""


@needs_python
async def test_a_fork_bomb_is_bounded_by_the_process_limit_and_the_wall_time(
    bubblewrap: BubblewrapSandbox, scratch: Path
) -> None:
    token = f"fork-bomb-{random.randrange(10**9)}"
    result = await bubblewrap.run(
        command(scratch, PY, "-c", FORKS, token, processes=32, wall_seconds=4)
    )
    started, refused = (int(n) for n in result.stdout.split()[1::2])
    assert started < 32
    assert refused == 10_000 - started
    assert result.reason is EndReason.TIMEOUT
    await asyncio.sleep(0.3)
    assert survivors(token) == []


async def test_a_shell_fork_loop_is_contained_and_leaves_nothing_behind(
    bubblewrap: BubblewrapSandbox, scratch: Path
) -> None:
    marker = f"3600.{random.randrange(10**9)}"  # a sleep no other process runs
    loop = f"i=0; while [ $i -lt 10000 ]; do sleep {marker} & i=$((i+1)); done; wait"
    result = await bubblewrap.run(command(scratch, "sh", "-c", loop, processes=24, wall_seconds=4))
    assert "fork" in result.stderr.lower()
    assert result.duration_seconds < 15
    await asyncio.sleep(0.3)
    assert survivors(marker) == []


@needs_python
async def test_the_process_limit_is_per_sandbox_not_per_user(
    bubblewrap: BubblewrapSandbox,
) -> None:
    # RLIMIT_NPROC counts a user's processes; set inside each sandbox's own
    # user namespace, it counts that sandbox's only, so two at once do not
    # share one allowance.
    with scratch_dir() as a, scratch_dir() as b:
        results = await asyncio.gather(
            bubblewrap.run(command(a, PY, "-c", FORKS, processes=16, wall_seconds=3)),
            bubblewrap.run(command(b, PY, "-c", FORKS, processes=16, wall_seconds=3)),
        )
    for result in results:
        started = int(result.stdout.split()[1])
        assert 8 <= started < 16, result.stdout


@needs_python
async def test_a_2gb_allocation_fails(bubblewrap: BubblewrapSandbox, scratch: Path) -> None:
    result = await bubblewrap.run(
        command(scratch, PY, "-c", "b = bytearray(2 * 1024**3)", memory_bytes=512 << 20)
    )
    assert result.exit_code == 1
    assert result.reason is EndReason.MEMORY
    assert "MemoryError" in result.stderr


async def test_a_command_past_its_time_limit_is_killed_and_reported(
    bubblewrap: BubblewrapSandbox, scratch: Path
) -> None:
    result = await bubblewrap.run(
        command(scratch, "sh", "-c", "echo started; sleep 30", wall_seconds=1)
    )
    assert result.reason is EndReason.TIMEOUT
    assert result.killed
    assert result.stdout == "started\n"
    assert result.duration_seconds < 5


async def test_hidden_paths_are_empty_inside(
    bubblewrap: BubblewrapSandbox, scratch: Path, project: Path
) -> None:
    result = await bubblewrap.run(
        SandboxCommand(argv=("ls", "-A", str(project)), scratch=scratch, hidden=(project,))
    )
    assert result.ok
    assert result.stdout == ""


@pytest.mark.skipif(os.geteuid() != 0, reason="the platform runs as root only in some deployments")
async def test_as_root_commands_run_as_nobody(bubblewrap: BubblewrapSandbox, scratch: Path) -> None:
    result = await bubblewrap.run(command(scratch, "id", "-u"))
    assert bubblewrap.run_as is not None
    assert result.stdout.strip() == str(bubblewrap.run_as[0])
    with scratch_dir() as private:
        hidden_project = private / "project"
        hidden_project.mkdir()
        with pytest.raises(SandboxError, match="cannot reach"):
            await bubblewrap.run(
                SandboxCommand(argv=("true",), scratch=scratch, cwd=hidden_project)
            )

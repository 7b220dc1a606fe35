"""The cluster commands as a person starts them, wrongly: one line and exit
code 2, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def swarmyard(clean_env: Any, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swarmyard.cli", *args],
        env=clean_env(**{"SWARMYARD_SECRET_KEY": "shared-by-every-process-of-the-cluster", **env}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def error_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("error:")]


def test_a_worker_refuses_the_in_process_bus(clean_env: Any, tmp_path: Path) -> None:
    done = swarmyard(clean_env, "worker", SWARMYARD_DATA_DIR=str(tmp_path))
    [line] = error_lines(done)
    assert line.startswith("error: `swarmyard worker` is one part of a cluster")
    assert "SWARMYARD_BUS_URL=nats://" in line
    assert "`swarmyard serve`" in line
    assert not (tmp_path / "swarmyard.db").exists()  # refused before touching anything


def test_an_unreachable_database_is_one_line(
    clean_env: Any, tmp_path: Path, closed_port: int
) -> None:
    done = swarmyard(
        clean_env,
        "worker",
        SWARMYARD_DATA_DIR=str(tmp_path),
        SWARMYARD_BUS_URL="nats://127.0.0.1:4222",
        SWARMYARD_DATABASE_URL=f"postgresql+asyncpg://nobody:secret@127.0.0.1:{closed_port}/x",
    )
    [line] = error_lines(done)
    assert line.startswith(f"error: cannot open the database (127.0.0.1:{closed_port}/x)")
    assert "secret" not in done.stderr


def test_an_unreachable_bus_is_one_line(clean_env: Any, tmp_path: Path, closed_port: int) -> None:
    done = swarmyard(
        clean_env,
        "scheduler",
        SWARMYARD_DATA_DIR=str(tmp_path),
        SWARMYARD_BUS_URL=f"nats://user:secret@127.0.0.1:{closed_port}",
    )
    [line] = error_lines(done)
    assert line.startswith(f"error: cannot reach the bus (127.0.0.1:{closed_port})")
    assert "secret" not in done.stderr


def test_an_unknown_bus_scheme_is_one_line(clean_env: Any, tmp_path: Path) -> None:
    done = swarmyard(
        clean_env, "api", SWARMYARD_DATA_DIR=str(tmp_path), SWARMYARD_BUS_URL="kafka://x:9092"
    )
    [line] = error_lines(done)
    assert "unsupported bus URL scheme 'kafka'" in line


def test_a_taken_health_port_is_one_line(clean_env: Any, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = swarmyard(
            clean_env,
            "worker",
            "--health-port",
            str(port),
            SWARMYARD_DATA_DIR=str(tmp_path),
            SWARMYARD_BUS_URL="nats://127.0.0.1:4222",
        )
    [line] = error_lines(done)
    assert line.startswith(f"error: cannot serve /healthz on 127.0.0.1:{port}")

"""The services under a cluster restart while it works: NATS (tasks accepted
meanwhile are not lost, the outbox catches up) and PostgreSQL (every
process reconnects and goes on). Both restart the test machine's own
servers, so they skip where those cannot be controlled from here — unless
SWARMYARD_REQUIRE_SERVICES=1 makes that a failure."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swarmyard.adapters.store.testing import restart_command
from swarmyard.testing.cluster import Cluster, create_tasks, install_agents

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _unavailable(reason: str) -> None:
    if os.environ.get("SWARMYARD_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class NatsServer:
    """The machine's nats-server process: stopped and started again with the
    same command line (its JetStream directory survives)."""

    def __init__(self) -> None:
        found = [
            p
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _read(p / "comm").strip() == "nats-server"
        ]
        if len(found) != 1 or os.geteuid() != 0:
            _unavailable("restarting NATS needs root and exactly one local nats-server")
        self.pid = int(found[0].name)
        self.argv = [a for a in (found[0] / "cmdline").read_bytes().split(b"\0") if a]

    def stop(self) -> None:
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{self.pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    def start(self) -> None:
        daemon = shutil.which("start-stop-daemon")
        argv = [a.decode() for a in self.argv]
        if daemon:
            cmd = [daemon, "--start", "--oknodo", "--background", "--exec", argv[0], "--"]
            subprocess.run([*cmd, *argv[1:]], check=True)
        else:  # pragma: no cover - machines without start-stop-daemon
            subprocess.Popen(argv, start_new_session=True)
        deadline = time.monotonic() + 30
        while not _port_open(4222):
            assert time.monotonic() < deadline, "nats-server did not come back"
            time.sleep(0.1)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _restart_postgres() -> None:
    command = restart_command()
    if command is None:
        _unavailable("restarting PostgreSQL needs root and pg_ctlcluster on this machine")
        return
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def _working_cluster(cluster: Callable[..., Cluster]) -> tuple[Cluster, Any]:
    c = cluster(
        SWARMYARD_OFFLINE_DELAY_MS="200",
    )
    api, _ = c.start_all(workers=2, concurrency=3)
    http = c.http(api)
    install_agents(http, "documenter", agents=2, replicas=3)
    return c, http


def test_tasks_accepted_while_nats_is_down_are_done_once_it_is_back(
    cluster: Callable[..., Cluster], board: Any
) -> None:
    nats = NatsServer()
    c, http = _working_cluster(cluster)
    ids = create_tasks(http, 30, type_="docs", label="Before")
    c.until("work under way", lambda: board.done() >= 5)
    nats.stop()
    try:
        # Accepted (201) with the bus gone: the database holds them, and
        # their messages wait in the outbox.
        ids += create_tasks(http, 10, type_="docs", label="During")
        assert board.count("SELECT count(*) FROM outbox") > 0
    finally:
        nats.start()
    ids += create_tasks(http, 10, type_="docs", label="After")
    c.until("every task done", lambda: board.done() == len(ids), timeout=240)
    board.assert_each_task_done_once(ids)
    c.until("the outbox drained", lambda: board.count("SELECT count(*) FROM outbox") == 0)


def test_processes_reconnect_after_postgres_restarts(
    cluster: Callable[..., Cluster], board: Any
) -> None:
    c, http = _working_cluster(cluster)
    ids = create_tasks(http, 30, type_="docs", label="Page")
    c.until("work under way", lambda: board.done() >= 5)
    _restart_postgres()
    ids += create_tasks(http, 10, type_="docs", label="After")
    c.until("every task done", lambda: board.done() == len(ids), timeout=240)
    board.assert_each_task_done_once(ids)
    assert all(p.alive for p in c.processes)

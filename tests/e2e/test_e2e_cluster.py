"""A cluster of real processes on PostgreSQL and NATS JetStream: one API, two
workers, two schedulers. Tasks get done once each while the leading
scheduler is killed (the standby takes over) and a worker is stopped mid-run
(its runs are handed back and finished by the other)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store.testing import create_database, drop_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DEADLINE = 60.0
TASKS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    """One `swarmyard <command>` process, its log in a file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "swarmyard.cli", *self.args, *self._port_args()],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def _port_args(self) -> list[str]:
        return ["--port" if self.args[0] == "api" else "--health-port", str(self.port)]

    def probe(self, path: str) -> httpx.Response | None:
        assert self.proc is not None
        assert self.proc.poll() is None, f"{self.name} died:\n{self.log()}"
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=2.0)
        except httpx.TransportError:
            return None

    def ready(self) -> dict[str, Any] | None:
        answer = self.probe("/readyz")
        return answer.json() if answer is not None and answer.status_code == 200 else None

    def signal(self, sig: int) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def json_logs(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


def until(what: str, check: Callable[[], Any], procs: list[Proc]) -> Any:
    """Poll `check` (an observation of other processes) until it holds."""
    deadline = time.monotonic() + DEADLINE
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.log()}" for p in procs)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.2)


@pytest.fixture
def database(postgres_server: URL, run_in_thread: Any) -> Iterator[str]:
    db = run_in_thread(create_database(postgres_server))
    yield db.render_as_string(hide_password=False)
    run_in_thread(drop_database(postgres_server, db))


@pytest.fixture
def nats_url(nats_server: str, run_in_thread: Any) -> Iterator[str]:
    """The machine's NATS, under a namespace of this test's own: its work
    stream and lease bucket are nobody else's, and are deleted afterwards."""
    from swarmyard.adapters.bus.testing import (
        delete_bucket,
        delete_stream,
        scratch_name,
    )

    url = nats_server
    namespace = scratch_name("CLUSTER")
    yield f"{url}?namespace={namespace}"
    run_in_thread(delete_stream(url, f"{namespace}_WORK"))
    run_in_thread(delete_bucket(url, f"{namespace}_LEADERS"))


@pytest.fixture
def cluster(
    tmp_path: Path, database: str, nats_url: str, clean_env: Any
) -> Iterator[Callable[..., Proc]]:
    env = clean_env(
        SWARMYARD_DATABASE_URL=database,
        SWARMYARD_BUS_URL=nats_url,
        SWARMYARD_DATA_DIR=str(tmp_path / "data"),
        SWARMYARD_SECRET_KEY="cluster-test-secret-key-cluster-test",
        SWARMYARD_LOG_FORMAT="json",
        SWARMYARD_OFFLINE_DELAY_MS="300",
        SWARMYARD_LEASE_SECONDS="3",
        SWARMYARD_LEADER_TTL_SECONDS="2",
        SWARMYARD_ORCHESTRATOR_INTERVAL="0.5",
        SWARMYARD_SHUTDOWN_GRACE_SECONDS="0",
    )
    procs: list[Proc] = []

    def start(name: str, *args: str) -> Proc:
        p = Proc(name, list(args), env, tmp_path / f"{name}.log").start()
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.proc is not None and p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait(10)


def test_api_two_workers_and_two_schedulers_finish_every_task_once(
    cluster: Callable[..., Proc], tmp_path: Path
) -> None:
    api = cluster("api", "api")
    workers = [cluster(f"worker-{i}", "worker", "--concurrency", "3") for i in (1, 2)]
    schedulers = [cluster(f"scheduler-{i}", "scheduler") for i in (1, 2)]
    everyone = [api, *workers, *schedulers]
    until("the API", lambda: api.probe("/readyz"), everyone)
    for p in workers + schedulers:
        until(f"{p.name} to be ready", p.ready, everyone)

    def leaders() -> list[Proc]:
        alive = [s for s in schedulers if s.proc and s.proc.poll() is None]
        return [s for s in alive if (s.ready() or {}).get("leader")]

    leader, *others = until("a leader", leaders, everyone)
    assert others == []

    key = json.loads((tmp_path / "data" / "credentials.json").read_text())["api_key"]
    http = httpx.Client(
        base_url=f"http://127.0.0.1:{api.port}/api/v1",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    for name in ("scribe", "writer"):  # six slots: more than one worker's three
        r = http.post("/agents", json={"manifest": "documenter", "name": name, "replicas": 3})
        assert r.status_code == 201, r.text
    ids = [
        http.post("/tasks", json={"title": f"Write page {i}", "type": "docs"}).json()["id"]
        for i in range(TASKS)
    ]

    def done() -> int:
        items = http.get("/tasks", params={"status": "done", "limit": 100}).json()["items"]
        return len(items)

    until("a third of the tasks", lambda: done() >= TASKS // 3, everyone)
    leader.signal(signal.SIGKILL)
    standby = next(s for s in schedulers if s is not leader)
    until("the standby to lead", lambda: (standby.ready() or {}).get("leader"), everyone)

    # A full worker: with no grace, some of its three runs are surely unfinished.
    busy = until(
        "a worker with every slot busy",
        lambda: next((w for w in workers if (w.ready() or {}).get("active_runs") == 3), None),
        everyone,
    )
    assert busy.signal(signal.SIGTERM) == 0  # graceful: hands its runs back
    until("every task", lambda: done() == TASKS, everyone)

    for task_id in ids:
        runs = http.get(f"/tasks/{task_id}/runs").json()["items"]
        assert [r["status"] for r in runs] == ["succeeded"], (task_id, runs)
        events = http.get(f"/runs/{runs[0]['id']}/events").json()["items"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert [e["type"] for e in events].count("completed") == 1

    ended = {w.name: [e for e in w.json_logs() if e.get("event") == "run ended"] for w in workers}
    assert all(ended.values()), "both workers ran runs"
    released = [e for e in busy.json_logs() if e.get("event") == "run released"]
    assert released, "the stopped worker handed runs back"

    for p in (standby, *(w for w in workers if w is not busy)):
        assert p.signal(signal.SIGTERM) == 0, p.log()
    http.close()

"""A cluster of real `swarmyard` processes, for tests that inject faults.

`Cluster` starts `swarmyard api`, `worker` and `scheduler` processes on one
database and bus, each with its log in a file and a port to probe; a test
kills, pauses, resumes and stops them like an operator (or a crash) would,
and waits with `Cluster.until` for what it expects to observe, failing with
every process's log if it never comes. `run_problems` checks the history of
one run against what exactly-once execution promises.

Nothing here imports pytest; a suite builds a `Cluster` in a fixture.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

__all__ = [
    "Cluster",
    "ClusterProcess",
    "clean_env",
    "create_tasks",
    "free_port",
    "install_agents",
    "run_problems",
]

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ClusterProcess:
    """One `swarmyard <command>` process; the API serves on `port`, the others
    their /healthz and /readyz probes."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ClusterProcess:
        port_flag = "--port" if self.args[0] == "api" else "--health-port"
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "swarmyard.cli", *self.args, port_flag, str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def probe(self, path: str) -> httpx.Response | None:
        """GET `path` on the process's port; None while it does not answer."""
        if not self.alive:
            raise AssertionError(f"{self.name} died:\n{self.log()}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=2.0)
        except httpx.TransportError:
            return None

    def ready(self) -> dict[str, Any] | None:
        """The /readyz body once the process is ready, else None."""
        answer = self.probe("/readyz")
        if answer is None or answer.status_code != 200:
            return None
        body: dict[str, Any] = answer.json()
        return body

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def signal(self, sig: int) -> int:
        """Send `sig` and wait for the exit; the exit code."""
        self.send(sig)
        assert self.proc is not None
        return self.proc.wait(30)

    def kill(self) -> None:
        if self.alive:
            self.signal(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def json_logs(self) -> list[dict[str, Any]]:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def logged(self, event: str) -> list[dict[str, Any]]:
        """The structured log entries of one kind (`event` is the message)."""
        return [e for e in self.json_logs() if e.get("event") == event]


class Cluster:
    """Processes sharing one environment (database, bus, data directory)."""

    def __init__(self, env: Mapping[str, str], logs: Path, *, deadline: float = 60.0) -> None:
        self.env = dict(env)
        self.logs = logs
        self.deadline = deadline
        self.processes: list[ClusterProcess] = []
        self._clients: list[httpx.Client] = []
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, *args: str) -> ClusterProcess:
        p = ClusterProcess(name, list(args), self.env, self.logs / f"{name}.log").start()
        self.processes.append(p)
        return p

    def start_ready(self, name: str, *args: str) -> ClusterProcess:
        """Start a process and wait until it reports ready."""
        p = self.start(name, *args)
        self.until(f"{name} to be ready", p.ready)
        return p

    def start_all(
        self, *, workers: int, concurrency: int
    ) -> tuple[ClusterProcess, list[ClusterProcess]]:
        """An API, a scheduler and `workers` workers, each ready; the API and the workers."""
        api = self.start_ready("api", "api")
        self.start_ready("scheduler", "scheduler")
        started = [
            self.start_ready(f"worker-{i}", "worker", "--concurrency", str(concurrency))
            for i in range(workers)
        ]
        return api, started

    def until(self, what: str, check: Callable[[], T | None], timeout: float | None = None) -> T:
        """Poll `check` (an observation of other processes) until it holds;
        on timeout fail with what was awaited and every process's log."""
        deadline = time.monotonic() + (self.deadline if timeout is None else timeout)
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.log()}" for p in self.processes)
                raise AssertionError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.1)

    def api_key(self) -> str:
        data_dir = Path(self.env["SWARMYARD_DATA_DIR"])
        key: str = json.loads((data_dir / "credentials.json").read_text())["api_key"]
        return key

    def http(self, api: ClusterProcess) -> httpx.Client:
        """A client of the API with the owner's key (closed with the cluster)."""
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{api.port}/api/v1",
            headers={"Authorization": f"Bearer {self.api_key()}"},
            timeout=30,
        )
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Kill what still runs (a paused process is resumed first so it can die)."""
        for client in self._clients:
            client.close()
        for p in self.processes:
            if p.alive:
                assert p.proc is not None
                p.proc.send_signal(signal.SIGCONT)
                p.proc.kill()
                p.proc.wait(10)


def create_tasks(http: httpx.Client, count: int, *, type_: str, label: str) -> list[str]:
    """Create `count` tasks over the API, eight requests at a time; their ids."""

    def one(i: int) -> str:
        r = http.post("/tasks", json={"title": f"{label} {i}", "type": type_})
        if r.status_code != 201:
            raise AssertionError(f"creating a task answered {r.status_code}: {r.text}")
        return str(r.json()["id"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def install_agents(http: httpx.Client, manifest: str, *, agents: int, replicas: int) -> None:
    """Install `agents` agents of a manifest, named after it."""
    for i in range(agents):
        body = {"manifest": manifest, "name": f"{manifest}-{i}", "replicas": replicas}
        r = http.post("/agents", json=body)
        if r.status_code != 201:
            raise AssertionError(f"installing {manifest} answered {r.status_code}: {r.text}")


def run_problems(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """What is wrong with one finished run's history (its events as the API
    shows them), by the promises of exactly-once execution: sequence numbers
    without gap or repeat, started and completed once, no step recorded
    twice, every tool call answered once. Empty when all hold."""
    problems: list[str] = []
    seqs = [e["seq"] for e in events]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"event sequence numbers are not 1..{len(seqs)}: {seqs}")
    kinds = Counter(e["type"] for e in events)
    for kind in ("started", "completed"):
        if kinds[kind] != 1:
            problems.append(f"{kinds[kind]} {kind!r} events, not one")
    steps = [e["payload"]["step"] for e in events if e["type"] == "step"]
    if steps != list(range(1, len(steps) + 1)):
        problems.append(f"steps recorded out of order or twice: {steps}")
    calls = Counter(e["payload"]["call_id"] for e in events if e["type"] == "tool_call")
    results = Counter(e["payload"]["call_id"] for e in events if e["type"] == "tool_result")
    if any(n != 1 for n in calls.values()) or calls != results:
        problems.append(f"tool calls {dict(calls)} and results {dict(results)} do not pair once")
    return problems


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any SWARMYARD_ setting, plus `extra`.

    SWARMYARD_LOCAL_MODEL stays: a test run that turned the free local tier
    off (with the `local` extra installed, it would otherwise answer every
    call of the processes started here) keeps it off in them."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SWARMYARD_") or k == "SWARMYARD_LOCAL_MODEL"
    }
    env.update(extra)
    return env

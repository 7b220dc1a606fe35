"""Real `swarmyard serve` processes and CLI invocations, as a user runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import URL

from swarmyard.adapters.store.testing import create_database, drop_database
from swarmyard.testing.cluster import Cluster, clean_env, free_port, run_problems

STARTUP_SECONDS = 30.0


@dataclass
class Server:
    data_dir: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with (self.data_dir / "server.log").open("ab") as log:  # the child keeps its own fd
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "swarmyard.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                env=clean_env(**self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:  # readiness probe: the server answers once its loops are up
            assert self.proc.poll() is None, self.log()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not start:\n{self.log()}")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")[-5000:]

    def api_key(self) -> str:
        key: str = json.loads((self.data_dir / "credentials.json").read_text())["api_key"]
        return key

    def stream(self, path: str, timeout: float = 60) -> Any:
        """An authenticated SSE request (a context manager like httpx.stream)."""
        return httpx.stream(
            "GET",
            f"{self.url}/api/v1{path}",
            timeout=timeout,
            headers={"Authorization": f"Bearer {self.api_key()}"},
        )

    def cli(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "swarmyard.cli", "--url", self.url, *args],
            check=False,
            env=clean_env(SWARMYARD_DATA_DIR=str(self.data_dir)),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check:
            assert done.returncode == 0, (done.stdout, done.stderr, self.log())
        return done

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli("--json", *args).stdout)

    def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api_key()}", **kw.pop("headers", {})}
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kw)


@pytest.fixture
def database(postgres_server: URL, run_in_thread: Any) -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own, dropped afterwards."""
    db = run_in_thread(create_database(postgres_server))
    yield db.render_as_string(hide_password=False)
    run_in_thread(drop_database(postgres_server, db))


@pytest.fixture
def nats_url(nats_server: str, run_in_thread: Any) -> Iterator[str]:
    """The machine's NATS, under a namespace of this test's own: its work
    stream and lease bucket are nobody else's, and are deleted afterwards."""
    from swarmyard.adapters.bus.testing import delete_bucket, delete_stream, scratch_name

    namespace = scratch_name("CLUSTER")
    yield f"{nats_server}?namespace={namespace}"
    run_in_thread(delete_stream(nats_server, f"{namespace}_WORK"))
    run_in_thread(delete_bucket(nats_server, f"{namespace}_LEADERS"))


class Board:
    """What a cluster's database holds, read directly (the API pages its lists)."""

    def __init__(self, url: str, run_in_thread: Any) -> None:
        self._url = url.replace("postgresql+asyncpg://", "postgresql://")
        self._run = run_in_thread

    def query(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        import asyncpg

        async def fetch() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self._url)
            try:
                return [dict(r) for r in await conn.fetch(sql, *args)]
            finally:
                await conn.close()

        result: list[dict[str, Any]] = self._run(fetch())
        return result

    def count(self, sql: str, *args: Any) -> int:
        return int(next(iter(self.query(sql, *args)[0].values())))

    def done(self) -> int:
        return self.count("SELECT count(*) FROM tasks WHERE status = 'done'")

    def runs(self) -> list[dict[str, Any]]:
        return self.query("SELECT id, task_id, status, attempt, lease_owner FROM runs")

    def assert_each_task_done_once(self, task_ids: list[str]) -> dict[str, dict[str, Any]]:
        """One succeeded run per task and a clean history per run; the runs by id."""
        runs = self.runs()
        per_task = Counter(r["task_id"] for r in runs)
        assert set(per_task) == set(task_ids)
        twice = [t for t, n in per_task.items() if n != 1]
        if twice:
            histories = self.events()
            detail = {
                r["id"]: (r["task_id"], r["status"], r["attempt"], histories.get(r["id"], [])[-3:])
                for r in runs
                if r["task_id"] in twice
            }
            raise AssertionError(f"a task was run twice: {detail}")
        assert Counter(r["status"] for r in runs) == {"succeeded": len(task_ids)}
        histories = self.events()
        problems = {r["id"]: run_problems(histories.get(r["id"], [])) for r in runs}
        assert {k: v for k, v in problems.items() if v} == {}
        return {r["id"]: r for r in runs}

    def events(self) -> dict[str, list[dict[str, Any]]]:
        """Every run's events in order, shaped as the API shows them."""
        by_run: dict[str, list[dict[str, Any]]] = {}
        rows = self.query("SELECT run_id, seq, type, payload FROM run_events ORDER BY run_id, seq")
        for r in rows:
            payload = r["payload"]
            event = {
                "seq": r["seq"],
                "type": r["type"],
                "payload": json.loads(payload) if isinstance(payload, str) else payload,
            }
            by_run.setdefault(r["run_id"], []).append(event)
        return by_run


@pytest.fixture
def board(database: str, run_in_thread: Any) -> Board:
    return Board(database, run_in_thread)


@pytest.fixture
def cluster(tmp_path: Path, database: str, nats_url: str) -> Iterator[Callable[..., Cluster]]:
    """Make a `Cluster` on a fresh database and NATS namespace; settings as
    keyword arguments (SWARMYARD_… names) override the defaults. Whatever
    still runs at the end is killed."""
    made: list[Cluster] = []

    def make(**settings: str) -> Cluster:
        env = clean_env(
            SWARMYARD_DATABASE_URL=database,
            SWARMYARD_BUS_URL=nats_url,
            SWARMYARD_DATA_DIR=str(tmp_path / "data"),
            SWARMYARD_SECRET_KEY="cluster-test-secret-key-cluster-test",
            SWARMYARD_LOG_FORMAT="json",
            SWARMYARD_LEASE_SECONDS="3",
            SWARMYARD_LEADER_TTL_SECONDS="2",
            SWARMYARD_ORCHESTRATOR_INTERVAL="0.2",
            SWARMYARD_RATE_LIMITS_ENABLED="false",
            SWARMYARD_SHUTDOWN_GRACE_SECONDS="0",
        )
        env.update(settings)
        c = Cluster(env, tmp_path / f"logs-{len(made)}")
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture(name="clean_env")
def clean_env_fixture() -> Any:
    return clean_env


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def make(**env: str) -> Server:
        s = Server(tmp_path / "data", env=env)
        s.data_dir.mkdir(exist_ok=True)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()

"""The load client of S1 (end to end) and S6 (dispatch), shared by the
Swarmyard contestant and the limit harness, so one client measures both.

It opens the workspace WebSocket (`/ws`, `{"subscribe": "board"}`)
and waits for the subscription's `ok` before the first submit, then keeps
`concurrency` POST /api/v1/tasks requests in flight until `tasks` are
submitted. A task is done when a board message carries its card with
status `done`; its latency is submit (just before the request is written)
→ that message's arrival, both on this process's clock. Throughput is
done tasks over first submit → last done. The client reads only `id` and
`created_at` of a POST answer, `topic`/`data.kind`/`data.task.{id,status}`
of a WebSocket message, and `items[].started_at` of GET
/api/v1/tasks/{id}/runs (S6's pickup); that is the whole protocol a server
under test must speak.

HTTP goes through a minimal HTTP/1.1 keep-alive client on asyncio streams
(one connection per in-flight request) rather than httpx: at a few thousand
requests a second on a two-core machine a general client would spend as
much CPU as the server under test and become the limit it is meant to
measure. The WebSocket is the `websockets` client with its defaults
(permessage-deflate offered, as a browser does).

Also here, because both contestants start the same kind of processes: a
process group that is always killed, a fresh PostgreSQL database that is
always dropped, and the CPU time of the PostgreSQL backends serving it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import asyncpg
import nats
from nats.js.errors import NotFoundError
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import cpu_seconds, percentile, pid_cpu_seconds

__all__ = [
    "PICKUP_NOTE",
    "POSTGRES",
    "WS_PATH",
    "Http",
    "LoadResult",
    "Processes",
    "Target",
    "backend_cpu",
    "cpu_delta",
    "dispatch_metrics",
    "drop_streams",
    "measure",
    "pickups",
    "postgres_database",
    "run_load",
    "task_body",
    "wait_ready",
]

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
# Where Swarmyard serves its WebSocket: at the root, outside the /api/v1 prefix
# of every other endpoint (docs/api.md lists it among them as `WS /ws`).
WS_PATH = "/ws"


def task_body(i: int) -> dict[str, Any]:
    """The task every contestant gets: a planning card for the benchmark's role."""
    return {"title": f"plan {i}", "type": "planning", "required_role": "pm"}


class Http:
    """One HTTP/1.1 keep-alive connection; Content-Length or chunked answers."""

    def __init__(self, host: str, port: int, api_key: str) -> None:
        self._host, self._port = host, port
        self._head = f"Host: {host}:{port}\r\nAuthorization: Bearer {api_key}\r\n"
        self._io: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self._io is None:
            self._io = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._io
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\n{self._head}Content-Length: {len(data)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        writer.write(head.encode() + b"\r\n" + data)
        try:
            lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
            if headers.get("transfer-encoding") == "chunked":
                raw = b""
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    raw += (await reader.readexactly(size + 2))[:-2]
                await reader.readuntil(b"\r\n")
            else:
                raw = await reader.readexactly(int(headers.get("content-length", "0")))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if headers.get("connection") == "close":
            self.close()
        return status, json.loads(raw) if raw else None

    def close(self) -> None:
        if self._io is not None:
            self._io[1].close()
            self._io = None


@dataclass
class LoadResult:
    tasks: int
    submitted: dict[str, float] = field(default_factory=dict)  # task id -> submit time
    created_at: dict[str, str] = field(default_factory=dict)  # task id -> the server's stamp
    settled: dict[str, tuple[float, str]] = field(default_factory=dict)  # id -> (time, status)
    errors: list[str] = field(default_factory=list)
    first_submit: float = 0.0
    client_cpu_s: float = 0.0
    timed_out: bool = False

    @property
    def done(self) -> dict[str, float]:
        return {
            i: t
            for i, (t, status) in self.settled.items()
            if status == "done" and i in self.submitted
        }

    def settle(self, text: str | bytes, now: float) -> str | None:
        """Read one WebSocket message: the id of a card it settles for the first time."""
        msg = json.loads(text)
        data = msg.get("data") if msg.get("topic") == "board" else None
        if not data or data.get("kind") != "task":
            return None
        card = data["task"]
        if card["status"] not in ("done", "failed", "cancelled") or card["id"] in self.settled:
            return None
        self.settled[card["id"]] = (now, card["status"])
        return str(card["id"])

    def metrics(self) -> dict[str, Any]:
        done = self.done
        latencies = [1000 * (t - self.submitted[i]) for i, t in done.items()]
        span = max(done.values(), default=self.first_submit) - self.first_submit
        return {
            "tasks": self.tasks,
            "done": len(done),
            "tasks_per_s": len(done) / span if span > 0 else float("nan"),
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
            "client_cpu_ms_per_task": 1000 * self.client_cpu_s / max(1, len(done)),
        }


async def run_load(
    host: str,
    port: int,
    api_key: str,
    *,
    tasks: int,
    concurrency: int,
    deadline_s: float,
    body: Callable[[int], dict[str, Any]] = task_body,
) -> LoadResult:
    """Submit `tasks` tasks, `concurrency` at a time, and watch them settle on
    the board; returns when all have, or at the deadline (then `timed_out`)."""
    res = LoadResult(tasks)
    remaining = tasks  # tasks neither settled-and-submitted nor failed to submit
    all_in = asyncio.Event()

    def count_one() -> None:
        nonlocal remaining
        remaining -= 1
        if remaining <= 0:
            all_in.set()

    url = f"ws://{host}:{port}{WS_PATH}"
    auth = {"Authorization": f"Bearer {api_key}"}
    async with connect(url, additional_headers=auth, max_size=None, proxy=None) as ws:
        await ws.send(json.dumps({"subscribe": "board"}))
        while "ok" not in json.loads(await ws.recv()):
            pass

        async def watch() -> None:
            async for text in ws:
                settled = res.settle(text, time.perf_counter())
                if settled is not None and settled in res.submitted:
                    count_one()

        next_index = 0

        async def submitter() -> None:
            nonlocal next_index
            http = Http(host, port, api_key)
            try:
                while next_index < tasks:
                    i, next_index = next_index, next_index + 1
                    t0 = time.perf_counter()
                    try:
                        status, answer = await http.request("POST", "/api/v1/tasks", body(i))
                    except (OSError, asyncio.IncompleteReadError) as exc:
                        status, answer = 0, repr(exc)
                    if status != 201:
                        res.errors.append(f"{status}: {str(answer)[:200]}")
                        count_one()
                        continue
                    res.submitted[answer["id"]] = t0
                    res.created_at[answer["id"]] = answer["created_at"]
                    if answer["id"] in res.settled:
                        count_one()
            finally:
                http.close()

        watcher = asyncio.create_task(watch())
        cpu0 = cpu_seconds()
        res.first_submit = time.perf_counter()
        submitters = [asyncio.create_task(submitter()) for _ in range(concurrency)]
        try:
            await asyncio.wait_for(all_in.wait(), deadline_s)
        except TimeoutError:
            res.timed_out = True
        res.client_cpu_s = cpu_seconds() - cpu0
        next_index = tasks  # stop submitting, if the deadline cut it short
        for t in (*submitters, watcher):
            t.cancel()
        await asyncio.gather(*submitters, watcher, return_exceptions=True)
    return res


async def pickups(
    host: str, port: int, api_key: str, task_ids: list[str], *, concurrency: int = 16
) -> dict[str, datetime]:
    """Each task's first run's `started_at` (GET /api/v1/tasks/{id}/runs)."""
    found: dict[str, datetime] = {}
    todo = list(task_ids)

    async def one_client() -> None:
        http = Http(host, port, api_key)
        try:
            while todo:
                task_id = todo.pop()
                status, answer = await http.request("GET", f"/api/v1/tasks/{task_id}/runs")
                started = [r["started_at"] for r in answer["items"] if r.get("started_at")]
                if status == 200 and started:
                    found[task_id] = min(datetime.fromisoformat(s) for s in started)
        finally:
            http.close()

    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    return found


def wait_ready(
    url: str, *, timeout: float = 60.0, alive: Callable[[], bool] = lambda: True
) -> None:
    """Until GET `url` answers 200 (a server's /readyz)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the process behind {url} died")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready within {timeout:g} s")


class Processes:
    """Child processes, each in its own session, killed with their groups on exit."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        self._files.append(log)
        proc = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append(proc)
        return proc

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.logs.glob("*.log"))
        )

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.started:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        for f in self._files:
            f.close()


@contextlib.asynccontextmanager
async def postgres_database(prefix: str) -> AsyncIterator[str]:
    """A new, empty database on the machine's PostgreSQL; its DSN. Dropped on exit."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        admin = await asyncpg.connect(f"{POSTGRES}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def backend_cpu(dsn: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `dsn`'s database."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return dict(_cpu_of(int(r["pid"]) for r in rows))


def _cpu_of(pids: Iterator[int]) -> Iterator[tuple[int, float]]:
    for pid in pids:
        with contextlib.suppress(OSError):
            yield pid, pid_cpu_seconds(pid)


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two `backend_cpu` readings (a backend born since counts from 0)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


async def drop_streams(*names: str) -> None:
    """Delete JetStream streams (a key-value bucket B is the stream KV_B), if they exist."""
    nc = await nats.connect("nats://127.0.0.1:4222")
    try:
        js = nc.jetstream()
        for name in names:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name)
    finally:
        await nc.close()


@dataclass
class Target:
    """A server under load: where it listens, its key, its processes and database."""

    port: int
    api_key: str
    pids: list[int]
    dsn: str | None = None  # a PostgreSQL database, whose backends' CPU is counted too

    def cpu(self) -> float:
        return sum(pid_cpu_seconds(pid) for pid in self.pids)

    async def load(self, tasks: int, concurrency: int, deadline_s: float) -> LoadResult:
        return await run_load(
            "127.0.0.1",
            self.port,
            self.api_key,
            tasks=tasks,
            concurrency=concurrency,
            deadline_s=deadline_s,
        )


async def measure(
    t: Target, params: dict[str, Any], tasks: int
) -> tuple[LoadResult, dict[str, Any]]:
    """A warm-up batch (first-run imports, caches), then the measured load with
    the server's CPU (and its database backends') around it."""
    concurrency = int(params.get("concurrency", 64))
    warmup = int(params.get("warmup", min(200, max(20, tasks // 20))))
    await t.load(warmup, concurrency, 120.0)
    db0 = await backend_cpu(t.dsn) if t.dsn else {}
    cpu0 = t.cpu()
    res = await t.load(tasks, concurrency, float(params.get("deadline_s", 900)))
    done = max(1, len(res.done))
    extra: dict[str, Any] = {"server_cpu_ms_per_task": 1000 * (t.cpu() - cpu0) / done}
    if t.dsn:
        extra["db_cpu_ms_per_task"] = 1000 * cpu_delta(db0, await backend_cpu(t.dsn)) / done
    return res, {"warmup": warmup, "concurrency": concurrency, **extra}


async def dispatch_metrics(t: Target, res: LoadResult, idle_tasks: int = 30) -> dict[str, Any]:
    """S6's figures from a finished load: pickup = the run's `started_at` − the
    task's `created_at` (server stamps); throughput = pickups over first
    created → last started. Then `idle_tasks` tasks one at a time (each
    submitted once the previous is done), for the wait with no queue."""
    started = await pickups("127.0.0.1", t.port, t.api_key, list(res.done))
    waits = [_ms(s, res.created_at[i]) for i, s in started.items()]
    first = min((datetime.fromisoformat(res.created_at[i]) for i in started), default=None)
    span = (max(started.values()) - first).total_seconds() if first else 0.0
    idle: list[float] = []
    for _ in range(idle_tasks):
        one = await t.load(1, 1, 30.0)
        for i, s in (await pickups("127.0.0.1", t.port, t.api_key, list(one.done))).items():
            idle.append(_ms(s, one.created_at[i]))
    return {
        "picked_up": len(started),
        "pickup_ms_p50": percentile(waits, 50),
        "pickup_ms_p99": percentile(waits, 99),
        "tasks_per_s": len(started) / span if span > 0 else float("nan"),
        "done_per_s": res.metrics()["tasks_per_s"],
        "pickup_ms_p50_idle": percentile(idle, 50),
    }


def _ms(started: datetime, created: str) -> float:
    return 1000 * (started - datetime.fromisoformat(created)).total_seconds()


PICKUP_NOTE = (
    "pickup = the run's started_at (stamped by the worker when it claims the run) − the "
    "task's created_at (stamped by the API before its insert), both server clocks of one "
    "host, read back over GET /api/v1/tasks/{id}/runs; tasks_per_s = runs picked up ÷ "
    "(first created_at → last started_at); done_per_s = the S1 throughput of the same load; "
    "pickup_ms_p50_idle = the same wait for tasks submitted one at a time after the load "
    "(no queue in front of them)"
)

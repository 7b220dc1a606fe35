"""Throughput of a cluster with 1, 2 and 3 worker processes:
`python bench/cluster_scaling.py [--tasks 300] [--delay-ms 50] [--concurrency 8]`.

Each round starts, on a fresh PostgreSQL database and the machine's NATS
JetStream, one `swarmyard api`, one `swarmyard scheduler` and N
`swarmyard worker --concurrency C` processes; installs a developer with
enough replicas; submits the tasks over HTTP at once and times submit →
the last task done. The model is the offline one with a fixed latency per
call (`SWARMYARD_OFFLINE_DELAY_MS`), so each worker can only drive C runs
at a time and adding workers should add throughput until the database, the
orchestrator or the machine's two cores become the limit. Rounds are
interleaved (1, 2, 3, 1, 2, 3, …) and the median is reported with the
scaling ratio against one worker.

Not a test: it needs PostgreSQL on 127.0.0.1:5432 and NATS on 4222.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from swarmyard.adapters.store import SqlStore
from swarmyard.adapters.store.testing import create_database, drop_database, find_postgres
from swarmyard.domain import TaskStatus


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "swarmyard.cli", *args],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


async def wait_ready(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the API at {base} did not become ready")


async def one_round(workers: int, tasks: int, delay_ms: int, concurrency: int) -> dict[str, Any]:
    server = await find_postgres()
    database = await create_database(server)
    tmp = Path(tempfile.mkdtemp(prefix="swarmyard-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "SWARMYARD_DATABASE_URL": database.render_as_string(hide_password=False),
        "SWARMYARD_BUS_URL": "nats://127.0.0.1:4222",
        "SWARMYARD_DATA_DIR": str(tmp),
        "SWARMYARD_SECRET_KEY": "bench-secret-key-bench-secret-key",
        "SWARMYARD_OFFLINE_DELAY_MS": str(delay_ms),
        "SWARMYARD_ORCHESTRATOR_INTERVAL": "0.2",
        "SWARMYARD_RATE_LIMITS_ENABLED": "false",
        "SWARMYARD_PORT": str(port),
    }
    procs = [start(["api"], env, tmp / "api.log")]
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base)
        procs.append(start(["scheduler"], env, tmp / "scheduler.log"))
        for i in range(workers):
            procs.append(
                start(["worker", "--concurrency", str(concurrency)], env, tmp / f"worker{i}.log")
            )
        key = json.loads((tmp / "credentials.json").read_text())["api_key"]
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=f"{base}/api/v1", headers=headers, timeout=60) as api:
            # The same slots in every round, enough for three workers' runs (a developer
            # takes 4): only the number of workers changes between rounds.
            for _ in range((3 * concurrency + 3) // 4):
                r = await api.post("/agents", json={"manifest": "developer", "replicas": 4})
                r.raise_for_status()
            t0 = time.perf_counter()
            made = await asyncio.gather(
                *(
                    api.post("/tasks", json={"title": f"fix {i}", "type": "bugfix"})
                    for i in range(tasks)
                )
            )
            for m in made:
                m.raise_for_status()
            # Counted in the database (the API pages its lists).
            store = SqlStore(env["SWARMYARD_DATABASE_URL"])
            try:
                while True:
                    async with store.unit_of_work("default") as uow:
                        counts = await uow.tasks.counts_by_status()
                    if counts.get(TaskStatus.DONE, 0) >= tasks:
                        break
                    await asyncio.sleep(0.1)
            finally:
                await store.close()
            wall = time.perf_counter() - t0
        return {
            "workers": workers,
            "wall_s": wall,
            "tasks_per_s": tasks / wall,
        }
    finally:
        stop(procs)
        await drop_database(server, database)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    a = parser.parse_args()
    results: dict[int, list[float]] = {1: [], 2: [], 3: []}
    for _ in range(a.repeats):
        for n in (1, 2, 3):
            r = await one_round(n, a.tasks, a.delay_ms, a.concurrency)
            results[n].append(r["tasks_per_s"])
            print(
                f"{n} worker(s): {r['tasks_per_s']:7.1f} tasks/s ({r['wall_s']:.1f} s)", flush=True
            )
    base = statistics.median(results[1])
    print(f"\n{a.tasks} tasks, offline model {a.delay_ms} ms/call, {a.concurrency} runs per worker")
    for n, rates in results.items():
        med = statistics.median(rates)
        print(f"{n} worker(s): median {med:7.1f} tasks/s   scaling x{med / base:.2f}")


if __name__ == "__main__":
    asyncio.run(main())

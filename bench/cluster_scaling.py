"""Throughput of a cluster with 1, 2 and 3 worker processes:
`python bench/cluster_scaling.py [--tasks 100] [--repeats 3] [--scenario model-bound]`.

Each round starts, on a fresh PostgreSQL database and the machine's NATS
JetStream, one `swarmyard api`, one `swarmyard scheduler` and N
`swarmyard worker --concurrency C` processes, waits until every process
answers /readyz, installs developers with enough replicas for three
workers, runs a warm-up batch (first-run imports), then submits the tasks
over HTTP at once and times submit → the last task done. The model is the
offline one with a fixed latency per call (`SWARMYARD_OFFLINE_DELAY_MS`),
so a worker drives at most C runs at a time and adding workers adds
throughput until the database, the orchestrator or the machine's cores
become the limit. Rounds are interleaved (1, 2, 3, 1, 2, 3, …); the median
is reported with the scaling ratio against one worker, and the CPU each
process spent per task, which says where the machine's time went.

Not a test: it needs PostgreSQL on 127.0.0.1:5432 and NATS on 4222.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from swarmyard.adapters.store import SqlStore
from swarmyard.adapters.store.testing import create_database, drop_database, find_postgres
from swarmyard.domain import TaskStatus
from swarmyard.testing.cluster import Cluster, ClusterProcess


def cpu_seconds(process: ClusterProcess) -> float:
    """User + system CPU seconds the process has used so far (Linux /proc)."""
    assert process.proc is not None
    fields = Path(f"/proc/{process.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def wait_done(database_url: str, count: int) -> None:
    """Until `count` tasks are done, counted in the database (the API pages its lists)."""
    store = SqlStore(database_url)
    try:
        while True:
            async with store.unit_of_work("default") as uow:
                counts = await uow.tasks.counts_by_status()
            if counts.get(TaskStatus.DONE, 0) >= count:
                return
            await asyncio.sleep(0.05)
    finally:
        await store.close()


async def submit(api: httpx.AsyncClient, count: int, label: str) -> None:
    made = await asyncio.gather(
        *(
            api.post("/tasks", json={"title": f"{label} {i}", "type": "bugfix"})
            for i in range(count)
        )
    )
    for m in made:
        m.raise_for_status()


async def one_round(workers: int, tasks: int, delay_ms: int, concurrency: int) -> dict[str, Any]:
    server = await find_postgres()
    database = await create_database(server)
    tmp = Path(tempfile.mkdtemp(prefix="swarmyard-bench-"))
    env = {
        **os.environ,
        "SWARMYARD_DATABASE_URL": database.render_as_string(hide_password=False),
        "SWARMYARD_BUS_URL": "nats://127.0.0.1:4222",
        "SWARMYARD_DATA_DIR": str(tmp),
        "SWARMYARD_SECRET_KEY": "bench-secret-key-bench-secret-key",
        "SWARMYARD_OFFLINE_DELAY_MS": str(delay_ms),
        "SWARMYARD_ORCHESTRATOR_INTERVAL": "0.2",
        "SWARMYARD_RATE_LIMITS_ENABLED": "false",
    }
    cluster = Cluster(env, tmp / "logs")
    try:
        # Every process answers /readyz before the clock starts, so start-up
        # (imports, connections) is not counted.
        api_process, _ = cluster.start_all(workers=workers, concurrency=concurrency)
        base = f"http://127.0.0.1:{api_process.port}/api/v1"
        headers = {"Authorization": f"Bearer {cluster.api_key()}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as api:
            # The same slots in every round, enough for three workers' runs (a developer
            # takes 4): only the number of workers changes between rounds.
            for _ in range((3 * concurrency + 3) // 4):
                r = await api.post("/agents", json={"manifest": "developer", "replicas": 4})
                r.raise_for_status()
            # A warm-up batch loads what each worker imports on its first run.
            warm = workers * concurrency
            await submit(api, warm, "warm-up")
            await wait_done(env["SWARMYARD_DATABASE_URL"], warm)
            cpu0 = {p.name: cpu_seconds(p) for p in cluster.processes}
            t0 = time.perf_counter()
            await submit(api, tasks, "fix")
            await wait_done(env["SWARMYARD_DATABASE_URL"], warm + tasks)
            wall = time.perf_counter() - t0
        cpu = {p.name: cpu_seconds(p) - cpu0[p.name] for p in cluster.processes}
        return {
            "cpu_s": cpu,
            "workers": workers,
            "wall_s": wall,
            "tasks_per_s": tasks / wall,
        }
    finally:
        cluster.close()
        await drop_database(server, database)


# (model latency per call, runs per worker): the first is bound by the model,
# as real agents are, so each worker adds its runs; the second by the CPU of
# a machine that hosts every process of the cluster and its database.
SCENARIOS = {"model-bound": (500, 4), "machine-bound": (50, 8)}


async def scenario(name: str, tasks: int, delay_ms: int, concurrency: int, repeats: int) -> None:
    print(f"== {name}: {tasks} tasks, offline model {delay_ms} ms/call, {concurrency} runs/worker")
    results: dict[int, list[float]] = {1: [], 2: [], 3: []}
    for _ in range(repeats):
        for n in (1, 2, 3):
            r = await one_round(n, tasks, delay_ms, concurrency)
            results[n].append(r["tasks_per_s"])
            cpu = ", ".join(f"{k} {1000 * v / tasks:.0f}" for k, v in r["cpu_s"].items())
            rate = f"{r['tasks_per_s']:7.1f} tasks/s ({r['wall_s']:.1f} s)"
            print(f"{n} worker(s): {rate}; CPU ms/task {cpu}", flush=True)
    base = statistics.median(results[1])
    for n, rates in results.items():
        med = statistics.median(rates)
        print(f"{n} worker(s): median {med:7.1f} tasks/s   scaling x{med / base:.2f}")
    print(flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--delay-ms", type=int, help="overrides the scenario's model latency")
    parser.add_argument("--concurrency", type=int, help="overrides the scenario's runs/worker")
    a = parser.parse_args()
    for name, (delay_ms, concurrency) in SCENARIOS.items():
        if a.scenario in (name, "all"):
            await scenario(
                name, a.tasks, a.delay_ms or delay_ms, a.concurrency or concurrency, a.repeats
            )


if __name__ == "__main__":
    asyncio.run(main())

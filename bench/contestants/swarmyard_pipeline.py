"""Swarmyard end to end over HTTP (S1) and its dispatch in a cluster (S6).

Real processes on a fresh data directory: `swarmyard serve` (embedded,
SQLite) or `swarmyard api` + `scheduler` + N `worker` (cluster, a fresh
PostgreSQL database and a NATS namespace of its own). Every run is the
same, with nothing in the platform changed: a custom manifest
(`bench/data/bench_planner.toml`) whose role the built-in offline model
plays as a project manager with `list_tasks` as its only tool, so a run is
model call → `list_tasks` → model call → answer, with no delegation and
no model latency. What the platform does around it is all counted:
assignment, claim, every step stored and published, the card moved to
done and announced on the board.

The load client (`_load.py`, shared with the limit harness) watches the
board over the workspace WebSocket; S6 then reads each task's run over
the API. Agents are installed with enough replicas for every run the
workers may drive at once, so slots are never the limit, and a warm-up
batch runs before the clock starts (first-run imports, caches).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sys
import tempfile
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import contestant_main, emit, versions
from _load import (
    PICKUP_NOTE,
    Http,
    LoadResult,
    Processes,
    Target,
    dispatch_metrics,
    drop_streams,
    measure,
    postgres_database,
    wait_ready,
)

from swarmyard.testing.cluster import Cluster, clean_env, free_port

MANIFEST = Path(__file__).resolve().parents[1] / "data" / "bench_planner.toml"
REPLICAS = 100  # the most an agent may have (and what the manifest allows)
WORKER_CONCURRENCY = 200  # SWARMYARD_WORKER_CONCURRENCY's default, left as it is
RUN_NOTE = (
    "each run: 2 offline-model calls and 1 list_tasks tool call (the 25 newest cards), "
    "9 run events (started, routing, step, llm_call, tool_call, tool_result, step, "
    "llm_call, completed); the card goes todo → in_progress → done"
)


async def install(port: int, api_key: str, slots: int) -> int:
    """Publish the manifest and install agents with `slots` replicas in all; agents made."""
    http = Http("127.0.0.1", port, api_key)
    try:
        manifest = tomllib.loads(MANIFEST.read_text())
        status, answer = await http.request("POST", "/api/v1/catalog", manifest)
        if status != 201:
            raise RuntimeError(f"publishing the manifest answered {status}: {answer}")
        agents = -(-slots // REPLICAS)
        for i in range(agents):
            body = {"manifest": manifest["id"], "name": f"planner-{i}", "replicas": REPLICAS}
            status, answer = await http.request("POST", "/api/v1/agents", body)
            if status != 201:
                raise RuntimeError(f"installing an agent answered {status}: {answer}")
        return agents
    finally:
        http.close()


def settings(tmp: Path, **extra: str) -> dict[str, str]:
    # Rate limits off: 10,000 tasks from one key in seconds is the point here.
    return clean_env(
        SWARMYARD_DATA_DIR=str(tmp),
        SWARMYARD_RATE_LIMITS_ENABLED="false",
        SWARMYARD_LOG_FORMAT="json",
        **extra,
    )


@contextlib.asynccontextmanager
async def embedded(tmp: Path) -> AsyncIterator[Target]:
    port = free_port()
    (tmp / "logs").mkdir()
    with Processes(tmp / "logs") as procs:
        argv = [sys.executable, "-m", "swarmyard.cli", "serve", "--port", str(port)]
        proc = procs.start("serve", argv, settings(tmp))
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", alive=lambda: proc.poll() is None)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{procs.tail()}") from None
        key = json.loads((tmp / "credentials.json").read_text())["api_key"]
        await install(port, key, WORKER_CONCURRENCY)
        yield Target(port, key, [proc.pid], None)


@contextlib.asynccontextmanager
async def cluster(tmp: Path, workers: int) -> AsyncIterator[Target]:
    namespace = f"SYBENCH_{secrets.token_hex(4)}"
    async with postgres_database("swarmyard_bench") as dsn:
        env = settings(
            tmp,
            SWARMYARD_DATABASE_URL=dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            SWARMYARD_BUS_URL=f"nats://127.0.0.1:4222?namespace={namespace}",
            SWARMYARD_SECRET_KEY=secrets.token_hex(32),
        )
        c = Cluster(env, tmp / "logs")
        try:
            api = c.start_ready("api", "api")
            key = c.api_key()
            # The custom role exists before the workers start, so each serves it
            # from its first fetch (instead of after a rediscovery period).
            await install(api.port, key, workers * WORKER_CONCURRENCY)
            c.start_ready("scheduler", "scheduler")
            for i in range(workers):
                c.start_ready(f"worker-{i}", "worker")
            pids = [p.proc.pid for p in c.processes if p.proc is not None]
            yield Target(api.port, key, pids, dsn)
        finally:
            c.close()
            await drop_streams(f"{namespace}_WORK", f"KV_{namespace}_LEADERS")


def platform(mode: str, tmp: Path, workers: int) -> contextlib.AbstractAsyncContextManager[Target]:
    if mode == "embedded":
        return embedded(tmp)
    if mode == "cluster":
        return cluster(tmp, workers)
    raise SystemExit(f"unknown mode {mode!r}: embedded or cluster")


def notes_of(mode: str, workers: int, setup: dict[str, Any], res: LoadResult) -> list[str]:
    processes = (
        "one `swarmyard serve` (SQLite, in-process bus)"
        if mode == "embedded"
        else f"`swarmyard api` + `scheduler` + {workers} `worker` on PostgreSQL + NATS JetStream"
    )
    notes = [
        f"{processes}; rate limits off, every other setting the default "
        f"(worker concurrency {WORKER_CONCURRENCY}); agents with enough replicas for "
        f"every run the workers may drive",
        RUN_NOTE,
        f"{setup['warmup']} warm-up tasks first; {setup['concurrency']} POSTs in flight; "
        "done = the card's board message with status done on the workspace WebSocket",
        "server CPU: every Swarmyard process"
        + ("; db CPU: the PostgreSQL backends of its database" if mode == "cluster" else ""),
    ]
    if res.timed_out:
        notes.append(f"deadline reached with {len(res.done)} of {res.tasks} done")
    if res.errors:
        notes.append(f"{len(res.errors)} submits failed, first: {res.errors[0]}")
    return notes


async def s1(params: dict[str, Any]) -> None:
    mode = str(params.get("mode", "embedded"))
    tasks = int(params.get("tasks", 10000))
    with tempfile.TemporaryDirectory(prefix="swarmyard-s1-") as d:
        async with platform(mode, Path(d), 2) as plat:
            res, setup = await measure(plat, params, tasks)
    metrics = {"mode": mode, **res.metrics(), **setup}
    emit(metrics, versions=versions("swarmyard"), notes=notes_of(mode, 2, setup, res))


async def s6(params: dict[str, Any]) -> None:
    tasks, workers = int(params.get("tasks", 3000)), int(params.get("workers", 2))
    with tempfile.TemporaryDirectory(prefix="swarmyard-s6-") as d:
        async with cluster(Path(d), workers) as plat:
            res, setup = await measure(plat, params, tasks)
            dispatch = await dispatch_metrics(plat, res, int(params.get("idle_tasks", 30)))
    notes = [*notes_of("cluster", workers, setup, res), PICKUP_NOTE]
    emit({"tasks": tasks, **dispatch, **setup}, versions=versions("swarmyard"), notes=notes)


if __name__ == "__main__":
    contestant_main({"S1": lambda p: asyncio.run(s1(p)), "S6": lambda p: asyncio.run(s6(p))})

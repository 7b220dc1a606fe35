"""Swarmyard's agent loop in process, no HTTP: scenarios S3 (loop overhead)
and S2 (mass concurrency).

The same work as every peer: one run is a tool call (`read_task` on the
run's own task, a real tool reading the store) and a final answer, the
fake model deciding from the conversation it is given. Unlike the peers,
each run here is a platform run: the worker's claim, the THINK/ACT steps
with their events and checkpoints stored, the router's call ledger, the
finish (learning profile, agent counters, the card moved to done) and the
board and run events published. `store` picks the store: `memory` (the
in-process adapter; what the loop itself costs) or `sqlite` (a file
database in WAL mode, what the embedded platform persists).

S3 times each run from claim to finish (what `Agent.run` is for a peer)
and, separately, the whole task (create → assigned → claimed → done).
S2 starts `runs` runs at once through the worker (its slots, the outbox,
the bus) with a model that sleeps `sleep_s` per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Stopwatch, contestant_main, emit, percentile, rss_kib, versions
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.usage import RequestUsage

from swarmyard.adapters.bus import MemoryBus
from swarmyard.adapters.store import MemoryStore, create_store
from swarmyard.domain import DEFAULT_WORKSPACE as WS
from swarmyard.domain import ModelSpec, ProviderSpec, TaskStatus
from swarmyard.ports import ModelCall, ModelClient
from swarmyard.runtime.agent_loop import RunControl
from swarmyard.runtime.wiring import Container, build
from swarmyard.services.tasks import NewTask
from swarmyard.testing import embedded_settings

ANSWER = "It is sunny in Paris."
# A custom role made from the developer's manifest: one tool, and up to 100
# replicas per agent (a built-in developer takes 4), so S2 needs few agents.
ROLE = "forecaster"
SLOTS = 100  # the most replicas one agent may have


class ToolThenAnswer:
    """The fake model: a `read_task` call first, the answer once a tool result is in."""

    provider = "bench"
    model_name = "tool-then-answer"
    offline = False

    def __init__(self, sleep_s: float = 0.0) -> None:
        self._sleep = sleep_s

    async def request(self, call: ModelCall) -> ModelResponse:
        if self._sleep:
            await asyncio.sleep(self._sleep)
        usage = RequestUsage(input_tokens=20, output_tokens=8)
        last = call.messages[-1]
        if any(isinstance(p, ToolReturnPart) for p in getattr(last, "parts", ())):
            return ModelResponse(parts=[TextPart(ANSWER)], usage=usage, model_name=self.model_name)
        return ModelResponse(
            parts=[ToolCallPart("read_task", {"task_id": call.task_id}, tool_call_id="c1")],
            usage=usage,
            model_name=self.model_name,
        )


class OneModel:
    """Every model of every provider is the fake."""

    def __init__(self, client: ModelClient) -> None:
        self._client = client

    def client(
        self, provider: ProviderSpec, model: ModelSpec, *, api_key: str | None = None
    ) -> Any:
        return self._client

    async def aclose(self) -> None:
        return None


async def platform(tmp: Path, store_kind: str, sleep_s: float, **settings: Any) -> Container:
    """A platform with no loops running: the benchmark drives each part."""
    store = (
        MemoryStore()
        if store_kind == "memory"
        else create_store(f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    )
    return build(
        embedded_settings(tmp, **settings),
        store=store,
        bus=MemoryBus(),
        models=OneModel(ToolThenAnswer(sleep_s)),
    )


async def install_role(c: Container) -> None:
    async with c.store.unit_of_work(WS) as uow:
        base = await c.catalog.get(uow, "developer", None)
    changes = {"id": ROLE, "name": "Forecaster", "role": ROLE, "builtin": False}
    changes |= {"max_concurrent_tasks": SLOTS, "allowed_tools": ["read_task"], "dependencies": []}
    await c.catalog.add(WS, base.model_copy(update=changes))


async def install_agents(c: Container, slots: int) -> None:
    for _ in range(0, slots, SLOTS):
        await c.registry.install(WS, ROLE, replicas=min(SLOTS, slots))


async def one_task(c: Container, n: int) -> tuple[int, int]:
    """Create, assign, claim and run one task: (run ns, task ns)."""
    t0 = time.perf_counter_ns()
    task = await c.tasks.create(
        WS, NewTask(title=f"weather {n}", type="feature", required_role=ROLE)
    )
    await c.orchestrator.assign_ready(WS, limit=1)
    runs = await c.runs.for_task(WS, task.id)
    t1 = time.perf_counter_ns()
    claimed = await c.lifecycle.claim(WS, runs[0].id, "bench")
    assert claimed is not None
    await c.worker._loop.execute(claimed, RunControl())
    t2 = time.perf_counter_ns()
    return t2 - t1, t2 - t0


async def done_count(c: Container) -> int:
    async with c.store.unit_of_work(WS) as uow:
        counts = await uow.tasks.counts_by_status()
    return counts.get(TaskStatus.DONE, 0)


async def s3(params: dict[str, Any]) -> None:
    runs, warmup = int(params.get("runs", 2000)), int(params.get("warmup", 200))
    instances = int(params.get("instances", 200))
    store_kind = str(params.get("store", "memory"))
    with tempfile.TemporaryDirectory() as d:
        c = await platform(Path(d), store_kind, 0.0)
        await c.start(control_plane=False, workers=False)
        try:
            await install_role(c)
            await install_agents(c, 4)
            for i in range(warmup):
                await one_task(c, i)
            run_ns, task_ns = [], []
            with Stopwatch() as sw:
                for i in range(runs):
                    r, t = await one_task(c, warmup + i)
                    run_ns.append(r)
                    task_ns.append(t)
            finished = await done_count(c)
            inst_us, inst_kib = await instantiation(c, instances)
        finally:
            await c.stop(grace=1.0)
    emit(
        {
            "store": store_kind,
            "runs": runs,
            "failed": runs + warmup - finished,
            "run_us_p50": percentile(run_ns, 50) / 1000,
            "run_us_p99": percentile(run_ns, 99) / 1000,
            "run_us_mean": sum(run_ns) / len(run_ns) / 1000,
            "task_us_p50": percentile(task_ns, 50) / 1000,
            "task_us_p99": percentile(task_ns, 99) / 1000,
            "cpu_s_per_run": sw.cpu / runs,
            "instantiate_us": inst_us,
            "instantiate_kib": inst_kib,
        },
        versions=versions("swarmyard", "pydantic-ai-slim", "pydantic", "sqlalchemy"),
        notes=[
            f"store={store_kind}; run = claim → THINK (tool call) → ACT (read_task) → THINK "
            "(answer) → finish, every step's events and checkpoint stored",
            "instantiation = installing an agent (the agent row and its slots) in the store",
        ],
    )


async def instantiation(c: Container, count: int) -> tuple[float, float]:
    """µs and KiB per installed agent, all kept."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter_ns()
    for i in range(count):
        await c.registry.install(WS, ROLE, replicas=1, name=f"inst-{i}")
    elapsed = time.perf_counter_ns() - t0
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return elapsed / count / 1000, (after - before) / count / 1024


async def s2(params: dict[str, Any]) -> None:
    runs, sleep_s = int(params.get("runs", 10000)), float(params.get("sleep_s", 1.0))
    store_kind = str(params.get("store", "sqlite"))
    with tempfile.TemporaryDirectory() as d:
        c = await platform(
            Path(d), store_kind, sleep_s, worker_concurrency=runs, orchestrator_interval=0.05
        )
        # Workers and relay now; the orchestrator only once every task is on
        # the board, so the clock starts with all runs to hand out.
        await c.start(control_plane=False, workers=True)
        jobs: list[asyncio.Task[None]] = []
        try:
            await install_role(c)
            await install_agents(c, runs)
            for i in range(runs):
                await c.tasks.create(
                    WS, NewTask(title=f"weather {i}", type="feature", required_role=ROLE)
                )
            gc.collect()
            base = peak = rss_kib()
            sub = await c.bus.subscribe(f"swarmyard.{WS}.board")
            with Stopwatch() as sw:
                t0 = time.perf_counter()
                jobs = [asyncio.create_task(job) for _, job in c.control_jobs()]
                # As long as the peers get (they have none but the suite's
                # timeout): a slow platform shows as slow, not as lost runs.
                done, deadline = 0, t0 + float(params.get("deadline_s", 600))
                while done < runs and time.perf_counter() < deadline:
                    with contextlib.suppress(TimeoutError):
                        await sub.next(timeout=0.05)
                    done = await done_count(c)
                    peak = max(peak, rss_kib())
                wall = time.perf_counter() - t0
            await sub.unsubscribe()
        finally:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            await c.stop(grace=1.0)
    emit(
        {
            "store": store_kind,
            "runs": runs,
            "completed": done,
            "lost": runs - done,
            "wall_s": wall,
            "ideal_s": 2 * sleep_s,
            "wall_over_ideal": wall / (2 * sleep_s),
            "rss_kib_per_run": (peak - base) / runs,
            "cpu_s_per_run": sw.cpu / runs,
        },
        versions=versions("swarmyard", "pydantic-ai-slim", "pydantic", "sqlalchemy"),
        notes=[
            f"store={store_kind}; every task on the board before the clock starts; the "
            "orchestrator hands them out in passes (its own pace), one worker drives them all",
            "memory per run: the process's peak RSS during the runs less its RSS before, "
            "per run (the rows of tasks and agents already made are in the baseline)",
        ],
    )


if __name__ == "__main__":
    contestant_main({"S3": lambda p: asyncio.run(s3(p)), "S2": lambda p: asyncio.run(s2(p))})

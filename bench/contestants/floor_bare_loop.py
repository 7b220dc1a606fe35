"""The floor of scenarios S3 (loop overhead) and S2 (mass concurrency): the
same work as every agent framework, done by a bare asyncio loop with no
framework at all.

One run: the fake model (a coroutine) is given the messages and returns a
tool call `get_weather(city="Paris")` as a dict; the loop calls the Python
tool function, appends its result to the messages and calls the model again,
which, now that the last message is a tool result, returns the text
"It is sunny in Paris.". The "agent" is a small object holding its name,
instructions and tools, what the least framework would have to keep.

Standard library only (and `_common`): it runs in the project's interpreter.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Stopwatch, contestant_main, emit, percentile, rss_kib, versions

ANSWER = "It is sunny in Paris."


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."


class FakeModel:
    """A tool call first, the answer once the last message is a tool result."""

    def __init__(self, sleep_s: float = 0.0) -> None:
        self._sleep = sleep_s

    async def __call__(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        if self._sleep:
            await asyncio.sleep(self._sleep)
        if messages[-1]["role"] == "tool":
            return {"role": "assistant", "content": ANSWER}
        call = {"id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}


class Agent:
    """What a run needs: instructions, the tools by name and the model."""

    __slots__ = ("instructions", "model", "name", "tools")

    def __init__(
        self, name: str, instructions: str, tools: list[Callable[..., Any]], model: FakeModel
    ) -> None:
        self.name = name
        self.instructions = instructions
        self.tools = {t.__name__: t for t in tools}
        self.model = model

    async def run(self, prompt: str) -> str:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self.instructions},
            {"role": "user", "content": prompt},
        ]
        while True:
            reply = await self.model(messages)
            messages.append(reply)
            calls = reply.get("tool_calls")
            if not calls:
                return str(reply["content"])
            for call in calls:
                result = self.tools[call["name"]](**call["arguments"])
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})


def make_agent(model: FakeModel, n: int = 0) -> Agent:
    return Agent(f"forecaster-{n}", "Answer with the weather.", [get_weather], model)


def instantiation(count: int) -> tuple[float, float]:
    """µs and KiB per agent object, all kept alive."""
    model = FakeModel()
    kept: list[Agent] = []
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter_ns()
    for i in range(count):
        kept.append(make_agent(model, i))
    elapsed = time.perf_counter_ns() - t0
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return elapsed / count / 1000, (after - before) / count / 1024


async def s3(params: dict[str, Any]) -> None:
    runs, warmup = int(params.get("runs", 2000)), int(params.get("warmup", 200))
    instances = int(params.get("instances", 200))
    agent = make_agent(FakeModel())
    for _ in range(warmup):
        await agent.run("What is the weather in Paris?")
    run_ns: list[int] = []
    failed = 0
    with Stopwatch() as sw:
        for _ in range(runs):
            t0 = time.perf_counter_ns()
            out = await agent.run("What is the weather in Paris?")
            run_ns.append(time.perf_counter_ns() - t0)
            failed += out != ANSWER
    inst_us, inst_kib = instantiation(instances)
    emit(
        {
            "runs": runs,
            "failed": failed,
            "run_us_p50": percentile(run_ns, 50) / 1000,
            "run_us_p99": percentile(run_ns, 99) / 1000,
            "run_us_mean": sum(run_ns) / len(run_ns) / 1000,
            "cpu_s_per_run": sw.cpu / runs,
            "instantiate_us": inst_us,
            "instantiate_kib": inst_kib,
        },
        versions=versions(),
        notes=[
            "run = model coroutine (tool call as a dict) → get_weather → model (answer), "
            "messages as a list of dicts, no framework",
            "instantiation = one agent object (name, instructions, tools by name, model)",
        ],
    )


async def peak_rss(peak: list[int], stop: asyncio.Event) -> None:
    """Sample the process's RSS every 20 ms until told to stop."""
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib())
        await asyncio.sleep(0.02)


async def s2(params: dict[str, Any]) -> None:
    runs, sleep_s = int(params.get("runs", 10000)), float(params.get("sleep_s", 1.0))
    agent = make_agent(FakeModel(sleep_s))
    gc.collect()
    base = rss_kib()
    peak, stop = [base], asyncio.Event()
    sampler = asyncio.create_task(peak_rss(peak, stop))
    with Stopwatch() as sw:
        t0 = time.perf_counter()
        outs = await asyncio.gather(
            *(agent.run("What is the weather in Paris?") for _ in range(runs)),
            return_exceptions=True,
        )
        wall = time.perf_counter() - t0
    stop.set()
    await sampler
    completed = sum(out == ANSWER for out in outs)
    emit(
        {
            "runs": runs,
            "completed": completed,
            "lost": runs - completed,
            "wall_s": wall,
            "ideal_s": 2 * sleep_s,
            "wall_over_ideal": wall / (2 * sleep_s),
            "rss_kib_per_run": (peak[0] - base) / runs,
            "cpu_s_per_run": sw.cpu / runs,
        },
        versions=versions(),
        notes=[
            f"{runs} runs of the bare loop started at once with asyncio.gather, the fake "
            f"model sleeping {sleep_s:g} s per call",
            "memory per run: peak RSS (sampled every 20 ms) less the RSS before, per run",
        ],
    )


if __name__ == "__main__":
    contestant_main({"S3": lambda p: asyncio.run(s3(p)), "S2": lambda p: asyncio.run(s2(p))})

"""pydantic-ai in scenarios S3 (loop overhead) and S2 (mass concurrency).

One run is one `Agent.run`: the agent asks its model, which answers with a
tool call `get_weather(city="Paris")`; pydantic-ai validates the arguments,
calls the tool, sends its return and asks the model again, which answers
"It is sunny in Paris."; the run's output is that text.

The fake model is pydantic-ai's own `FunctionModel` (no HTTP, no provider
client): its function returns a `ToolCallPart` unless the last request
carries a `ToolReturnPart`, then a `TextPart` with the answer; in S2 it
sleeps `sleep_s` with asyncio.sleep first.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Stopwatch, contestant_main, emit, percentile, rss_kib, versions
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

ANSWER = "It is sunny in Paris."
PROMPT = "What is the weather in Paris?"
DISTRIBUTIONS = ("pydantic-ai-slim", "pydantic", "pydantic-core")


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."


def fake_model(sleep_s: float = 0.0) -> FunctionModel:
    async def tool_then_answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        if sleep_s:
            await asyncio.sleep(sleep_s)
        parts = getattr(messages[-1], "parts", ())
        if any(isinstance(p, ToolReturnPart) for p in parts):
            return ModelResponse(parts=[TextPart(ANSWER)])
        return ModelResponse(parts=[ToolCallPart("get_weather", {"city": "Paris"}, "c1")])

    return FunctionModel(tool_then_answer, model_name="tool-then-answer")


def make_agent(model: FunctionModel) -> Agent[None, str]:
    return Agent(model, instructions="Answer with the weather.", tools=[get_weather])


async def one_run(agent: Agent[None, str]) -> str:
    result = await agent.run(PROMPT)
    return result.output


def instantiation(count: int) -> tuple[float, float]:
    """µs and KiB per `Agent`, all kept alive (the model shared, as a client would be)."""
    model = fake_model()
    kept: list[Agent[None, str]] = []
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter_ns()
    for _ in range(count):
        kept.append(make_agent(model))
    elapsed = time.perf_counter_ns() - t0
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return elapsed / count / 1000, (after - before) / count / 1024


async def s3(params: dict[str, Any]) -> None:
    runs, warmup = int(params.get("runs", 2000)), int(params.get("warmup", 200))
    instances = int(params.get("instances", 200))
    agent = make_agent(fake_model())
    for _ in range(warmup):
        await one_run(agent)
    run_ns: list[int] = []
    failed = 0
    with Stopwatch() as sw:
        for _ in range(runs):
            t0 = time.perf_counter_ns()
            out = await one_run(agent)
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
        versions=versions(*DISTRIBUTIONS),
        notes=[
            "run = Agent.run: FunctionModel (tool call) → get_weather (a plain def, run by "
            "pydantic-ai in a worker thread) → FunctionModel (answer), nothing stored",
            "instantiation = Agent(model, instructions, tools=[get_weather]), the model shared",
        ],
    )


async def peak_rss(peak: list[int], stop: asyncio.Event) -> None:
    """Sample the process's RSS every 20 ms until told to stop."""
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib())
        await asyncio.sleep(0.02)


async def s2(params: dict[str, Any]) -> None:
    runs, sleep_s = int(params.get("runs", 10000)), float(params.get("sleep_s", 1.0))
    agent = make_agent(fake_model(sleep_s))
    await one_run(make_agent(fake_model()))  # first-use costs (schemas, imports) out of the way
    gc.collect()
    base = rss_kib()
    peak, stop = [base], asyncio.Event()
    sampler = asyncio.create_task(peak_rss(peak, stop))
    with Stopwatch() as sw:
        t0 = time.perf_counter()
        outs = await asyncio.gather(*(one_run(agent) for _ in range(runs)), return_exceptions=True)
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
        versions=versions(*DISTRIBUTIONS),
        notes=[
            f"{runs} Agent.run started at once with asyncio.gather on one agent, the "
            f"FunctionModel sleeping {sleep_s:g} s per call",
            "memory per run: peak RSS (sampled every 20 ms) less the RSS before, per run",
        ],
    )


if __name__ == "__main__":
    contestant_main({"S3": lambda p: asyncio.run(s3(p)), "S2": lambda p: asyncio.run(s2(p))})

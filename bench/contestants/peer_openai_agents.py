"""The OpenAI Agents SDK in scenarios S3 (loop overhead) and S2 (mass
concurrency).

One run is one `Runner.run(agent, prompt)`: the runner asks the agent's
model, which answers with a `ResponseFunctionToolCall` to
`get_weather(city="Paris")`; the runner calls the `function_tool`, appends
its `function_call_output` to the input and asks the model again, which
answers with a `ResponseOutputMessage` "It is sunny in Paris."; the run's
output is `final_output`.

The fake model is a subclass of the SDK's `Model` interface (no HTTP, no
OpenAI client): `get_response` returns the tool call unless the last input
item is a tool output, then the message; in S2 it sleeps `sleep_s` with
asyncio.sleep first. Streaming is not used. Tracing is off by environment
(the runner's) and in code.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Stopwatch, contestant_main, emit, percentile, rss_kib, versions
from agents import Agent, ModelResponse, Runner, Usage, function_tool, set_tracing_disabled
from agents.models.interface import Model
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

ANSWER = "It is sunny in Paris."
PROMPT = "What is the weather in Paris?"
DISTRIBUTIONS = ("openai-agents", "openai", "pydantic")


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."


class ToolThenAnswer(Model):
    """A tool call first, the answer once the last input item is a tool output."""

    def __init__(self, sleep_s: float = 0.0) -> None:
        self._sleep = sleep_s

    async def get_response(
        self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
    ) -> ModelResponse:
        if self._sleep:
            await asyncio.sleep(self._sleep)
        last = input[-1] if isinstance(input, list) else {}
        if isinstance(last, dict) and last.get("type") == "function_call_output":
            text = ResponseOutputText(type="output_text", text=ANSWER, annotations=[])
            item: Any = ResponseOutputMessage(
                id="m1", type="message", role="assistant", status="completed", content=[text]
            )
        else:
            item = ResponseFunctionToolCall(
                id="fc1",
                call_id="c1",
                type="function_call",
                name="get_weather",
                arguments=json.dumps({"city": "Paris"}),
                status="completed",
            )
        return ModelResponse(output=[item], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the benchmark does not stream")


def make_agent(model: ToolThenAnswer) -> Agent[Any]:
    return Agent(
        name="forecaster",
        instructions="Answer with the weather.",
        tools=[get_weather],
        model=model,
    )


async def one_run(agent: Agent[Any]) -> str:
    result = await Runner.run(agent, PROMPT)
    return str(result.final_output)


def instantiation(count: int) -> tuple[float, float]:
    """µs and KiB per `Agent`, all kept alive (the model and the tool shared)."""
    model = ToolThenAnswer()
    kept: list[Agent[Any]] = []
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
    agent = make_agent(ToolThenAnswer())
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
            "run = Runner.run: fake Model (function call) → get_weather (a plain def, run by "
            "the SDK in a thread) → fake Model (message), tracing off, no session",
            "instantiation = Agent(name, instructions, tools=[get_weather], model), the model "
            "and the function_tool shared",
        ],
    )


async def peak_rss(peak: list[int], stop: asyncio.Event) -> None:
    """Sample the process's RSS every 20 ms until told to stop."""
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib())
        await asyncio.sleep(0.02)


async def s2(params: dict[str, Any]) -> None:
    runs, sleep_s = int(params.get("runs", 10000)), float(params.get("sleep_s", 1.0))
    agent = make_agent(ToolThenAnswer(sleep_s))
    await one_run(make_agent(ToolThenAnswer()))  # first-use costs out of the way
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
            f"{runs} Runner.run started at once with asyncio.gather on one agent, the fake "
            f"Model sleeping {sleep_s:g} s per call",
            "memory per run: peak RSS (sampled every 20 ms) less the RSS before, per run",
        ],
    )


if __name__ == "__main__":
    set_tracing_disabled(True)
    contestant_main({"S3": lambda p: asyncio.run(s3(p)), "S2": lambda p: asyncio.run(s2(p))})

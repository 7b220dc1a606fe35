"""CrewAI in scenarios S3 (loop overhead) and S2 (mass concurrency).

One run is one `Crew.akickoff()` (CrewAI's native-async kickoff; its
`kickoff_async` only runs the sync `kickoff` in a thread) of a crew of one
agent and one task: the agent's executor asks the LLM, which answers with a
native tool call `get_weather(city="Paris")`; the executor runs the tool and
adds a `tool` message; it asks the LLM again, which answers
"It is sunny in Paris."; the run's output is the crew output's `raw` text.
CrewAI's own per-kickoff work comes with it: its events, the task output
written to its SQLite store (in a temporary data directory here).

The fake LLM subclasses CrewAI's `BaseLLM` (no HTTP, no provider client)
and says it supports function calling, so the executor takes the native
tool-calling path (not the ReAct text format): `call` returns an
OpenAI-style tool call unless the last message has the `tool` role, then
the answer. CrewAI's executor steps are sync methods it runs in the event
loop's default thread pool and they call the LLM's sync `call`, so in S2
the fake sleeps `sleep_s` with time.sleep (blocking its pool thread, as a
sync HTTP client would); `acall` sleeps with asyncio.sleep should a path
take it. Telemetry and tracing are off by environment, set here too.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import TELEMETRY_OFF, Stopwatch, contestant_main, emit, percentile, rss_kib, versions

# Before CrewAI is imported: no telemetry, no tracing (nor its consent
# prompt) even when run by hand, and its data files kept out of $HOME.
for _key, _value in TELEMETRY_OFF.items():
    os.environ.setdefault(_key, _value)
_DATA = tempfile.TemporaryDirectory(prefix="bench-crewai-")
os.environ["XDG_DATA_HOME"] = _DATA.name

from crewai import Agent, Crew, Task
from crewai.llms.base_llm import BaseLLM
from crewai.tools import tool

ANSWER = "It is sunny in Paris."
PROMPT = "What is the weather in Paris?"
DISTRIBUTIONS = ("crewai", "crewai-core", "pydantic", "openai")
DEADLINE_S = 600.0  # S2: the runs not done by then are lost
TOOL_CALL = {
    "id": "c1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
}


@tool("get_weather")
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."


class ToolThenAnswer(BaseLLM):
    """A tool call first, the answer once the last message is a tool result."""

    sleep_s: float = 0.0

    def supports_function_calling(self) -> bool:
        return True

    def get_input_tokens_count(self, messages: Any, *args: Any, **kwargs: Any) -> int:
        # The base class logs a warning on every call before estimating; a
        # provider gives its own count, so the fake estimates quietly.
        chars = sum(len(str(m.get("content") or "")) for m in messages)
        return (chars + 3) // 4

    @staticmethod
    def _reply(messages: Any) -> str | list[dict[str, Any]]:
        if isinstance(messages, list) and messages and messages[-1].get("role") == "tool":
            return ANSWER
        return [TOOL_CALL]

    def call(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return self._reply(messages)

    async def acall(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        if self.sleep_s:
            await asyncio.sleep(self.sleep_s)
        return self._reply(messages)


def make_agent(llm: ToolThenAnswer) -> Agent:
    # cache=False: CrewAI would otherwise answer the same tool call from its
    # cache after the first run, and the tool is part of the work.
    return Agent(
        role="forecaster",
        goal="Answer with the weather.",
        backstory="A weather service.",
        llm=llm,
        tools=[get_weather],
        cache=False,
        verbose=False,
    )


def make_crew(llm: ToolThenAnswer) -> Crew:
    agent = make_agent(llm)
    task = Task(description=PROMPT, expected_output="the weather", agent=agent)
    return Crew(agents=[agent], tasks=[task], verbose=False, tracing=False)


async def one_run(crew: Crew) -> str:
    out = await crew.akickoff()
    return str(out.raw)


def instantiation(count: int) -> tuple[float, float]:
    """µs and KiB per `Agent`, all kept alive (the LLM and the tool shared)."""
    llm = ToolThenAnswer(model="tool-then-answer")
    kept: list[Agent] = []
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter_ns()
    for _ in range(count):
        kept.append(make_agent(llm))
    elapsed = time.perf_counter_ns() - t0
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return elapsed / count / 1000, (after - before) / count / 1024


async def s3(params: dict[str, Any]) -> None:
    runs, warmup = int(params.get("runs", 2000)), int(params.get("warmup", 200))
    instances = int(params.get("instances", 200))
    crew = make_crew(ToolThenAnswer(model="tool-then-answer"))
    for _ in range(warmup):
        await one_run(crew)
    run_ns: list[int] = []
    failed = 0
    with Stopwatch() as sw:
        for _ in range(runs):
            t0 = time.perf_counter_ns()
            out = await one_run(crew)
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
            "run = Crew.akickoff of one agent and one task: fake LLM (native tool call) → "
            "get_weather → fake LLM (answer); executor steps in the default thread pool, "
            "task output stored in CrewAI's SQLite file, tool cache off",
            "instantiation = Agent(role, goal, backstory, llm, tools=[get_weather]), the LLM "
            "and the tool shared (a run also needs a Task and a Crew)",
        ],
    )


async def peak_rss(peak: list[int], stop: asyncio.Event) -> None:
    """Sample the process's RSS every 20 ms until told to stop."""
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib())
        await asyncio.sleep(0.02)


async def s2(params: dict[str, Any]) -> None:
    runs, sleep_s = int(params.get("runs", 10000)), float(params.get("sleep_s", 1.0))
    # A crew runs one kickoff at a time (its executor refuses a second), so
    # each concurrent run has its own crew, made before the clock starts.
    llm = ToolThenAnswer(model="tool-then-answer", sleep_s=sleep_s)
    crews = [make_crew(llm) for _ in range(runs)]
    await one_run(make_crew(ToolThenAnswer(model="tool-then-answer")))  # first-use costs
    pool = min(32, (os.cpu_count() or 1) + 4)  # asyncio's default thread pool size
    gc.collect()
    base = rss_kib()
    peak, stop = [base], asyncio.Event()
    sampler = asyncio.create_task(peak_rss(peak, stop))
    # The model calls share the thread pool, so a large S2 takes long (and,
    # the pool being first come first served, the runs finish together):
    # past the deadline the runs not done count as lost, and a result is
    # still reported before the runner's S2 timeout (900 s).
    with Stopwatch() as sw:
        t0 = time.perf_counter()
        jobs = [asyncio.create_task(one_run(c)) for c in crews]
        done, pending = await asyncio.wait(jobs, timeout=DEADLINE_S)
        wall = time.perf_counter() - t0
    for job in pending:
        job.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    stop.set()
    await sampler
    completed = sum(
        1 for j in done if not j.cancelled() and j.exception() is None and j.result() == ANSWER
    )
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
            f"{runs} Crew.akickoff started at once, one crew each (made before the clock), the "
            f"fake LLM blocking its thread {sleep_s:g} s per call; CrewAI runs executor steps "
            f"in asyncio's default thread pool ({pool} threads here), which bounds concurrency",
            f"runs not done within {DEADLINE_S:g} s are cancelled and counted as lost",
            "memory per run: peak RSS (sampled every 20 ms) less the RSS before (crews already "
            "made), per run",
        ],
    )


if __name__ == "__main__":
    contestant_main({"S3": lambda p: asyncio.run(s3(p)), "S2": lambda p: asyncio.run(s2(p))})

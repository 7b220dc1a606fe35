"""LangGraph in scenarios S3 (loop overhead) and S2 (mass concurrency).

One run is one `ainvoke` of the graph `create_react_agent` builds: the
agent node asks the chat model, which answers with an `AIMessage` carrying a
tool call `get_weather(city="Paris")`; the tools node runs the tool and adds
a `ToolMessage`; the agent node asks the model again, which answers
"It is sunny in Paris."; the run's output is the last message's text.

The fake model is a langchain-core `BaseChatModel` subclass (no HTTP, no
provider client): a tool call unless the last message is a `ToolMessage`,
then the answer; in S2 it sleeps `sleep_s` with asyncio.sleep first. Its
`bind_tools` returns itself, as the tools are only the graph's business.

`create_react_agent` is deprecated in favour of `langchain.agents.create_agent`,
but `langchain` is not among the peers' requirements (langgraph and
langchain-core are), so the graph is made the LangGraph way and the warning
silenced.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import tracemalloc
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import Stopwatch, contestant_main, emit, percentile, rss_kib, versions
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.prebuilt import create_react_agent
from langgraph.warnings import LangGraphDeprecatedSinceV10

warnings.filterwarnings("ignore", category=LangGraphDeprecatedSinceV10)

ANSWER = "It is sunny in Paris."
PROMPT = "What is the weather in Paris?"
DISTRIBUTIONS = ("langgraph", "langgraph-prebuilt", "langchain-core", "pydantic")


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"It is sunny in {city}."


class ToolThenAnswer(BaseChatModel):
    """A tool call first, the answer once the last message is a tool result."""

    sleep_s: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "tool-then-answer"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolThenAnswer:  # type: ignore[override]
        return self

    def _reply(self, messages: list[BaseMessage]) -> ChatResult:
        if isinstance(messages[-1], ToolMessage):
            message = AIMessage(content=ANSWER)
        else:
            call = {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}
            message = AIMessage(content="", tool_calls=[call])
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return self._reply(messages)

    async def _agenerate(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> ChatResult:
        if self.sleep_s:
            await asyncio.sleep(self.sleep_s)
        return self._reply(messages)


def make_agent(model: ToolThenAnswer) -> Any:
    return create_react_agent(model, [get_weather], prompt="Answer with the weather.")


async def one_run(agent: Any) -> str:
    state = await agent.ainvoke({"messages": [("user", PROMPT)]})
    return str(state["messages"][-1].content)


def instantiation(count: int) -> tuple[float, float]:
    """µs and KiB per compiled agent graph, all kept alive (the model shared)."""
    model = ToolThenAnswer()
    kept: list[Any] = []
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
            "run = graph.ainvoke: agent node (fake chat model: tool call) → tools node "
            "(get_weather; a plain def runs in the executor) → agent node (answer), "
            "no checkpointer",
            "instantiation = create_react_agent(model, [get_weather]) (builds and compiles "
            "the graph), the model shared",
        ],
    )


async def peak_rss(peak: list[int], stop: asyncio.Event) -> None:
    """Sample the process's RSS every 20 ms until told to stop."""
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib())
        await asyncio.sleep(0.02)


async def s2(params: dict[str, Any]) -> None:
    runs, sleep_s = int(params.get("runs", 10000)), float(params.get("sleep_s", 1.0))
    agent = make_agent(ToolThenAnswer(sleep_s=sleep_s))
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
            f"{runs} graph.ainvoke started at once with asyncio.gather on one compiled graph, "
            f"the fake chat model sleeping {sleep_s:g} s per call",
            "memory per run: peak RSS (sampled every 20 ms) less the RSS before, per run",
        ],
    )


if __name__ == "__main__":
    contestant_main({"S3": lambda p: asyncio.run(s3(p)), "S2": lambda p: asyncio.run(s2(p))})

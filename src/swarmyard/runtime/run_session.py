"""What one run of the agent loop carries between its steps, and how it is stopped.

`RunControl` is the run's signals from outside (a stop request, the
wall-time limit); `RunStopped` ends the loop wherever it is, carrying the
events of a step cut short; `interruptible` lets a stop cancel an awaited
model call or a wait for another agent. `Session` is the run's state the
THINK and ACT steps share: its conversation, the tools offered, the
policies in force and what the run has taken in so far.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter

from ..domain import AgentManifest, Run, Task
from ..domain.policy import EffectivePolicy, Exposure
from ..ports import Tool, ToolSpec

__all__ = [
    "TEXT_EVENT_CHARS",
    "RunControl",
    "RunStopped",
    "Session",
    "cost_reached",
    "dump",
    "interruptible",
]

# The most of a model's text or a tool's answer an event carries.
TEXT_EVENT_CHARS = 2000


class RunStopped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        # The events of a step cut short (its tool results so far, the
        # interrupted call's), stored with the run's end.
        self.events: list[Any] = []


@dataclass(slots=True)
class RunControl:
    """Signals from outside the loop for one run."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = "stopped on request"
    timed_out: bool = False

    def request_stop(self, reason: str) -> None:
        self.reason = reason
        self.stop.set()

    def time_out(self, limit: float) -> None:
        """The wall-time limit passed: end the run the way a stop would, wherever
        it is (model call, retry pause, waiting for a subtask)."""
        self.timed_out = True
        self.request_stop(f"run exceeded its wall-time limit of {limit:g} s")


@dataclass(slots=True)
class Session:
    run: Run
    task: Task
    manifest: AgentManifest
    control: RunControl
    messages: list[ModelMessage]
    specs: list[ToolSpec]
    policy: EffectivePolicy = field(default_factory=EffectivePolicy)
    tools: dict[str, Tool] = field(default_factory=dict)
    exposure: Exposure = field(default_factory=Exposure)
    last_route: tuple[Any, Any] | None = None
    workdir: str | None = None


async def interruptible(coro: Any, control: RunControl) -> Any:
    """Await `coro` unless the run is stopped first: then it is cancelled
    and `RunStopped` raised."""
    work = asyncio.ensure_future(coro)
    stop = asyncio.ensure_future(control.stop.wait())
    try:
        await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if work.done():
        return work.result()
    work.cancel()
    raise RunStopped(control.reason)


def cost_reached(s: Session) -> tuple[str, str] | None:
    """(rule, reason) once the run has spent its policy's cost limit: its
    own model calls and what its tools spent (consultations) alike."""
    limit = s.policy.max_cost_microusd
    if limit is None or s.run.cost_microusd < limit.value:
        return None
    spent, most = s.run.cost_microusd / 1_000_000, limit.value / 1_000_000
    return (
        limit.rule("max_cost_usd_per_run"),
        f"the run has cost ${spent:.4f}, its limit is ${most:.4f}",
    )


def dump(messages: list[ModelMessage]) -> bytes:
    return ModelMessagesTypeAdapter.dump_json(messages)

"""The agent loop: THINK → ACT → DELEGATE → RESPOND.

Each THINK is one model call; its answer either calls tools (ACT; the
`delegate` tool is DELEGATE: a subtask for another role, awaited) or is the
final answer (RESPOND). After every step the run's events and a checkpoint
of the conversation are stored in one transaction, so a run resumed on
another worker continues from its last step. Phases are derived from the
conversation itself: a checkpoint ending with tool calls resumes in ACT,
one ending with tool results resumes in THINK.

Stop requests are honoured between steps and cancel an in-flight model
call; a lost lease (`StaleAttempt`) drops the run without another write.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ModelResponse,
    ToolCallPart,
    ToolReturnPart,
)

from ..domain import EventType, Run, RunStatus, StaleAttempt, Task
from ..ports import ModelCall, ModelClient, ModelSelector, Tool, ToolContext, ToolError, ToolSpec
from ..services.delegation import DelegationRequest, Delegator, SubtaskOutcome
from ..services.lifecycle import Claimed, Lifecycle, Outcome
from .delegation_wait import SubtaskWaiter
from .prompts import DELEGATE_SPEC, initial_messages

__all__ = ["AgentLoop", "RunControl"]

_TEXT_EVENT_CHARS = 2000
_RETRY_DELAYS = (0.5, 1.0, 2.0)


class RunStopped(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


class AgentLoop:
    def __init__(
        self,
        lifecycle: Lifecycle,
        delegator: Delegator,
        waiter: SubtaskWaiter,
        models: ModelSelector,
        tools: dict[str, Tool],
        *,
        run_max_seconds: float,
    ) -> None:
        self._life = lifecycle
        self._delegator = delegator
        self._waiter = waiter
        self._models = models
        self._tools = tools
        self._max_seconds = run_max_seconds

    async def execute(self, claimed: Claimed, control: RunControl) -> RunStatus | None:
        """Run to the end; returns the final status, or None if the run was fenced off."""
        run, task, manifest = claimed.run, claimed.task, claimed.manifest
        messages: list[ModelMessage] = (
            list(ModelMessagesTypeAdapter.validate_json(claimed.checkpoint))
            if claimed.checkpoint
            else initial_messages(run, task, manifest)
        )
        specs = [
            DELEGATE_SPEC if name == "delegate" else self._tools[name].spec
            for name in manifest.allowed_tools
            if name == "delegate" or name in self._tools
        ]
        client = self._models.select(run.role, task, manifest)
        session = _Session(run, task, control, messages, specs, client, manifest.max_steps)
        if run.stop_requested:
            control.request_stop("stopped on request")
        # The limit counts from the run's first start, across resumed attempts.
        remaining = self._max_seconds - self._life.elapsed(run)
        watchdog = asyncio.get_running_loop().call_later(
            max(0.0, remaining), control.time_out, self._max_seconds
        )
        try:
            outcome, events = await self._drive(session)
        except StaleAttempt:
            return None
        except RunStopped as stop:
            if control.timed_out:
                outcome = Outcome(RunStatus.TIMED_OUT, error=stop.reason)
                events = [self._life.event(run, EventType.ERROR, {"message": stop.reason})]
            else:
                outcome = Outcome(RunStatus.STOPPED, error=stop.reason)
                events = [self._life.event(run, EventType.STOPPED, {"reason": stop.reason})]
            await self._delegator.cancel_children(run)
        finally:
            watchdog.cancel()
        checkpoint = ModelMessagesTypeAdapter.dump_json(session.messages)
        try:
            await self._life.finish(run, outcome, events, checkpoint)
        except StaleAttempt:
            return None
        return outcome.status

    async def _drive(self, s: _Session) -> tuple[Outcome, list[Any]]:
        while True:
            # run.stop_requested is refreshed by every stored step (the store
            # returns the sticky flag), so a stop whose bus message was lost
            # still ends the run at its next step.
            if s.control.stop.is_set() or s.run.stop_requested:
                raise RunStopped(s.control.reason)
            last = s.messages[-1]
            if isinstance(last, ModelResponse) and last.tool_calls:
                await self._act(s, last.tool_calls)
                continue
            if s.run.steps >= s.max_steps:
                msg = f"no final answer after {s.max_steps} steps (the role's max_steps)"
                return (
                    Outcome(RunStatus.FAILED, error=msg),
                    [self._life.event(s.run, EventType.ERROR, {"message": msg})],
                )
            final = await self._think(s)
            if final is not None:
                return final

    async def _think(self, s: _Session) -> tuple[Outcome, list[Any]] | None:
        run = s.run
        run.steps += 1
        call = ModelCall(
            messages=s.messages,
            tools=s.specs,
            role=run.role,
            run_id=run.id,
            task_id=s.task.id,
            task_type=s.task.type,
            task_title=s.task.title,
            task_description=s.task.description,
            complexity=s.task.complexity.value,
            parent_task_id=s.task.parent_id,
        )
        t0 = time.monotonic()
        try:
            response = await self._call_model(s, call)
        except RunStopped:
            run.steps -= 1
            raise
        except Exception as exc:  # a model failure ends the run, named in its events
            msg = f"model call failed: {_describe(exc)}"
            return (
                Outcome(RunStatus.FAILED, error=msg),
                [self._life.event(run, EventType.ERROR, {"message": msg})],
            )
        duration_ms = round((time.monotonic() - t0) * 1000, 3)
        s.messages.append(response)
        usage = response.usage
        run.tokens_in += usage.input_tokens
        run.tokens_out += usage.output_tokens
        run.model = f"{s.client.provider}:{s.client.model_name}"
        text = response.text or ""
        events = [
            self._life.event(run, EventType.STEP, {"step": run.steps}),
            self._life.event(
                run,
                EventType.LLM_CALL,
                {
                    "model": s.client.model_name,
                    "provider": s.client.provider,
                    "offline": s.client.offline,
                    "tokens_in": usage.input_tokens,
                    "tokens_out": usage.output_tokens,
                    # The offline model is free; prices of real models come with the router.
                    "cost_usd": 0.0 if s.client.offline else None,
                    "duration_ms": duration_ms,
                    "tool_calls": len(response.tool_calls),
                    "text": text[:_TEXT_EVENT_CHARS],
                },
            ),
        ]
        events += [
            self._life.event(
                run,
                EventType.TOOL_CALL,
                {"tool": tc.tool_name, "args": tc.args_as_dict(), "call_id": tc.tool_call_id},
            )
            for tc in response.tool_calls
        ]
        if not response.tool_calls:
            events.append(self._life.event(run, EventType.COMPLETED, {"output": text}))
            return Outcome(RunStatus.SUCCEEDED, output=text), events
        await self._life.record(run, events, _dump(s.messages))
        return None

    async def _call_model(self, s: _Session, call: ModelCall) -> ModelResponse:
        for delay in (*_RETRY_DELAYS, None):
            try:
                response: ModelResponse = await self._interruptible(
                    s.client.request(call), s.control
                )
                return response
            except RunStopped:
                raise
            except Exception as exc:
                if delay is None or not getattr(exc, "retryable", False):
                    raise
                await self._interruptible(asyncio.sleep(delay), s.control)
        raise AssertionError("unreachable")

    async def _interruptible(self, coro: Any, control: RunControl) -> Any:
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

    async def _act(self, s: _Session, calls: list[ToolCallPart]) -> None:
        ctx = ToolContext(s.run.workspace_id, s.run.id, s.task.id, s.run.role)
        allowed = {spec.name for spec in s.specs}
        parts, events = [], []
        for tc in calls:
            ok, content = await self._call_tool(s, tc, ctx, allowed)
            parts.append(
                ToolReturnPart(
                    tool_name=tc.tool_name, content=content, tool_call_id=tc.tool_call_id
                )
            )
            events.append(
                self._life.event(
                    s.run,
                    EventType.TOOL_RESULT,
                    {
                        "tool": tc.tool_name,
                        "call_id": tc.tool_call_id,
                        "ok": ok,
                        "content": content[:_TEXT_EVENT_CHARS],
                    },
                )
            )
        s.messages.append(ModelRequest(parts=parts))
        await self._life.record(s.run, events, _dump(s.messages))

    async def _call_tool(
        self, s: _Session, tc: ToolCallPart, ctx: ToolContext, allowed: set[str]
    ) -> tuple[bool, str]:
        if tc.tool_name not in allowed:
            return False, json.dumps(
                {"error": f"tool {tc.tool_name!r} is not available to the {s.run.role} role"}
            )
        try:
            args = tc.args_as_dict()
        except ValueError as exc:
            return False, json.dumps({"error": f"arguments are not valid JSON: {exc}"})
        if tc.tool_name == "delegate":
            return await self._delegate(s, tc.tool_call_id, args)
        try:
            return True, await self._tools[tc.tool_name].call(args, ctx)
        except ToolError as exc:
            return False, json.dumps({"error": str(exc)})

    async def _delegate(self, s: _Session, call_id: str, args: dict[str, Any]) -> tuple[bool, str]:
        try:
            req = DelegationRequest.from_args(args)
        except ValueError as exc:
            return False, json.dumps({"error": str(exc)})
        made = await self._delegator.delegate(s.run, s.task, call_id, req)
        if isinstance(made, SubtaskOutcome):
            return False, json.dumps(made.as_dict())
        outcome = await self._waiter.wait(s.run.workspace_id, made.id, s.control.stop)
        if outcome is None:
            raise RunStopped(s.control.reason)
        return outcome.status == "done", json.dumps(outcome.as_dict())


@dataclass(slots=True)
class _Session:
    run: Run
    task: Task
    control: RunControl
    messages: list[ModelMessage]
    specs: list[ToolSpec]
    client: ModelClient
    max_steps: int


def _dump(messages: list[ModelMessage]) -> bytes:
    return ModelMessagesTypeAdapter.dump_json(messages)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 500 else text[:500] + "…"

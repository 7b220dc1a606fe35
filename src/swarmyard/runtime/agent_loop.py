"""The agent loop: THINK → ACT → DELEGATE → RESPOND.

Each THINK is one model call; its answer either calls tools (ACT; the
`delegate` tool is DELEGATE: a subtask for another role, awaited) or is the
final answer (RESPOND). A model that cannot call tools (a small local one)
is sent none, so its plain answer is the RESPOND, and a `progress` event
says the role's tools were not offered. After every step the run's events
and a checkpoint of the conversation are stored in one transaction, so a
run resumed on another worker continues from its last step. Phases are
derived from the conversation itself: a checkpoint ending with tool calls
resumes in ACT, one ending with tool results resumes in THINK.

Stop requests are honoured between steps and cancel an in-flight model
call, and a wait for another agent (a delegated subtask, the answer to a
consultation): that tool call ends as interrupted, a `tool_result` event
before the `stopped` one says so, and whatever answers later finds nobody
listening. A lost lease (`StaleAttempt`) drops the run without another write.

What a tool spends on model calls for the run (a consultation's answer,
`ToolContext.add_cost`) is added to the run's cost and tokens as it
returns, so the policy's cost limit counts it as it counts the run's own
calls.

This module drives the run (its start and end, the THINK step, the limits
that end it); the ACT step is `tool_step`, the state both share and the
stop machinery `run_session`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelMessagesTypeAdapter, ModelResponse

from ..domain import EventType, RunStatus, StaleAttempt
from ..domain.policy import EffectivePolicy
from ..domain.skill import SkillGrant
from ..ports import ModelCall, Tool
from ..services.delegation import Delegator
from ..services.lifecycle import Claimed, Lifecycle, Outcome
from ..services.router import ModelRouter, RouteNote, RoutingFailed
from .compaction import DEFAULT_BUDGET_TOKENS, compact_history
from .delegation_wait import SubtaskWaiter
from .prompts import initial_messages
from .run_session import (
    TEXT_EVENT_CHARS,
    RunControl,
    RunStopped,
    Session,
    cost_reached,
    dump,
    interruptible,
)
from .tool_step import AwaitingApproval, ToolStep, exposure_of, offered

__all__ = ["AgentLoop", "PolicySource", "RunControl", "SkillSource"]

# The policies in force for a run: (workspace, role, agent) -> folded policy.
PolicySource = Callable[[str, str, str | None], Awaitable[EffectivePolicy]]


async def _no_policies(_ws: str, _role: str, _agent: str | None) -> EffectivePolicy:
    return EffectivePolicy()


# The tools a workspace adds for its runs (its MCP servers' tools).
WorkspaceTools = Callable[[str], Awaitable[list[Tool]]]


async def _no_workspace_tools(_ws: str) -> list[Tool]:
    return []


# What the workspace's installed skill packs give a role: (workspace, role) -> grant.
SkillSource = Callable[[str, str], Awaitable[SkillGrant]]


async def _no_skills(_ws: str, _role: str) -> SkillGrant:
    return SkillGrant()


class AgentLoop:
    def __init__(
        self,
        lifecycle: Lifecycle,
        delegator: Delegator,
        waiter: SubtaskWaiter,
        router: ModelRouter,
        tools: dict[str, Tool],
        *,
        run_max_seconds: float,
        history_budget_tokens: int = DEFAULT_BUDGET_TOKENS,
        policies: PolicySource = _no_policies,
        workspace_tools: WorkspaceTools = _no_workspace_tools,
        skills: SkillSource = _no_skills,
    ) -> None:
        self._life = lifecycle
        self._delegator = delegator
        self._step = ToolStep(lifecycle, delegator, waiter)
        self._router = router
        self._tools = tools
        self._max_seconds = run_max_seconds
        self._history_budget = history_budget_tokens
        self._policies = policies
        self._workspace_tools = workspace_tools
        self._skills = skills

    async def execute(self, claimed: Claimed, control: RunControl) -> RunStatus | None:
        """Run to the end; returns the final status, or None if the run was fenced off."""
        run, task, manifest = claimed.run, claimed.task, claimed.manifest
        grant = await self._skills(run.workspace_id, run.role)
        # A resumed run keeps the instructions it started with (its checkpoint);
        # the tools are those granted now, each call still under the policies.
        messages: list[ModelMessage] = (
            list(ModelMessagesTypeAdapter.validate_json(claimed.checkpoint))
            if claimed.checkpoint
            else initial_messages(run, task, manifest, skills=grant.instructions)
        )
        tools = await self._tools_of(run.workspace_id)
        specs = offered([*manifest.allowed_tools, *grant.tools], tools)
        policy = await self._policies(run.workspace_id, run.role, run.agent_id)
        session = Session(run, task, manifest, control, messages, specs, policy, tools)
        session.workdir = claimed.workdir
        session.exposure = exposure_of(messages, tools)
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
        except AwaitingApproval as wait:
            watchdog.cancel()
            try:
                await self._life.park(run, wait.approval, wait.events, dump(session.messages))
            except StaleAttempt:
                return None
            return RunStatus.AWAITING_APPROVAL
        except RunStopped as stop:
            if control.timed_out:
                outcome = Outcome(RunStatus.TIMED_OUT, error=stop.reason)
                end = self._life.event(run, EventType.ERROR, {"message": stop.reason})
            else:
                outcome = Outcome(RunStatus.STOPPED, error=stop.reason)
                end = self._life.event(run, EventType.STOPPED, {"reason": stop.reason})
            events = [*stop.events, end]
            await self._delegator.cancel_children(run)
        finally:
            watchdog.cancel()
        checkpoint = dump(session.messages)
        try:
            await self._life.finish(run, outcome, events, checkpoint)
        except StaleAttempt:
            return None
        return outcome.status

    async def _drive(self, s: Session) -> tuple[Outcome, list[Any]]:
        while True:
            # run.stop_requested is refreshed by every stored step (the store
            # returns the sticky flag), so a stop whose bus message was lost
            # still ends the run at its next step.
            if s.control.stop.is_set() or s.run.stop_requested:
                raise RunStopped(s.control.reason)
            last = s.messages[-1]
            if isinstance(last, ModelResponse) and last.tool_calls:
                await self._step.act(s, last.tool_calls)
                continue
            if s.run.steps >= s.manifest.max_steps:
                msg = f"no final answer after {s.manifest.max_steps} steps (the role's max_steps)"
                return (
                    Outcome(RunStatus.FAILED, error=msg),
                    [self._life.event(s.run, EventType.ERROR, {"message": msg})],
                )
            if (over := self._over_limit(s)) is not None:
                return over
            final = await self._think(s)
            if final is not None:
                return final

    async def _think(self, s: Session) -> tuple[Outcome, list[Any]] | None:
        run = s.run
        run.steps += 1
        notes: list[RouteNote] = []
        try:
            routed = await interruptible(self._router.complete(self._call(s), notes), s.control)
        except RunStopped:
            run.steps -= 1
            raise
        except RoutingFailed as exc:
            msg = f"model call failed: {exc.message}"
            events = self._notes(s, notes)
            events.append(self._life.event(run, EventType.ERROR, {"message": msg}))
            return Outcome(RunStatus.FAILED, error=_clip(msg)), events
        response = routed.response
        s.messages.append(response)
        run.tokens_in += routed.tokens_in
        run.tokens_out += routed.tokens_out
        run.cost_microusd += routed.cost_microusd
        run.model = routed.candidate.ref
        text = response.text or ""
        events = self._notes(s, notes)
        events += [
            self._life.event(run, EventType.STEP, {"step": run.steps}),
            self._life.event(
                run,
                EventType.LLM_CALL,
                {
                    "model": routed.candidate.model,
                    "provider": routed.candidate.provider,
                    "offline": routed.candidate.offline,
                    "tokens_in": routed.tokens_in,
                    "tokens_out": routed.tokens_out,
                    "tokens_cached": routed.tokens_cached,
                    "cost_usd": routed.cost_microusd / 1_000_000,
                    "run_cost_usd": run.cost_microusd / 1_000_000,
                    "duration_ms": routed.latency_ms,
                    "reason": routed.reason,
                    "tool_calls": len(response.tool_calls),
                    "text": text[:TEXT_EVENT_CHARS],
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
            if s.specs and not routed.candidate.tool_calls:
                events.append(self._tools_not_offered(s, routed.candidate.ref))
            events.append(self._life.event(run, EventType.COMPLETED, {"output": text}))
            return Outcome(RunStatus.SUCCEEDED, output=text), events
        await self._life.record(run, events, dump(s.messages))
        return None

    def _tools_not_offered(self, s: Session, model: str) -> Any:
        """A model that answers in text only was sent no tools (the router
        drops them), so its first answer is the run's answer: said here, so
        a reader of the run knows why no tool was used."""
        tools = [spec.name for spec in s.specs]
        return self._life.event(
            s.run,
            EventType.PROGRESS,
            {
                "kind": "tools_unavailable",
                "model": model,
                "tools": tools,
                "message": (
                    f"{model} answers in text only: the {s.run.role} role's tools "
                    f"({', '.join(tools)}) were not offered, so its answer is text alone"
                ),
            },
        )

    def _call(self, s: Session) -> ModelCall:
        run, task, manifest = s.run, s.task, s.manifest
        return ModelCall(
            messages=compact_history(s.messages, budget_tokens=self._history_budget),
            tools=s.specs,
            role=run.role,
            run_id=run.id,
            task_id=task.id,
            task_type=task.type,
            task_title=task.title,
            task_description=task.description,
            complexity=task.complexity.value,
            parent_task_id=task.parent_id,
            workspace_id=run.workspace_id,
            agent_id=run.agent_id,
            project_id=task.project_id,
            model_tier=manifest.model.tier.value,
            preferred_models=list(manifest.model.preferred),
        )

    def _notes(self, s: Session, notes: list[RouteNote]) -> list[Any]:
        """The router's notes as events. A step that routes exactly like the
        one before says so once, not at every step."""
        events = []
        for note in notes:
            if note.payload.get("action") == "route":
                key = (note.payload.get("chain"), note.payload.get("reason"))
                if key == s.last_route:
                    continue
                s.last_route = key
            events.append(self._life.event(s.run, EventType.ROUTING, note.payload))
        return events

    def _over_limit(self, s: Session) -> tuple[Outcome, list[Any]] | None:
        """A policy's step or cost limit reached: the run ends, naming the rule."""
        run, policy = s.run, s.policy
        if policy.max_steps is not None and run.steps >= policy.max_steps.value:
            rule = policy.max_steps.rule("max_steps")
            msg = f"no final answer after {policy.max_steps.value} steps ({rule})"
        elif (cost := cost_reached(s)) is not None:
            rule, reason = cost
            msg = f"{reason} ({rule})"
        else:
            return None
        events = [
            self._life.event(run, EventType.POLICY_DENIED, {"rule": rule, "reason": msg}),
            self._life.event(run, EventType.ERROR, {"message": msg}),
        ]
        return Outcome(RunStatus.FAILED, error=msg), events

    async def _tools_of(self, workspace_id: str) -> dict[str, Tool]:
        """The platform's tools and the workspace's own (its MCP servers'),
        read at each start of a run, so a server added or gone counts."""
        extra = {t.spec.name: t for t in await self._workspace_tools(workspace_id)}
        return {**extra, **self._tools}  # a workspace cannot shadow a built-in tool


def _clip(text: str) -> str:
    return text if len(text) < 2000 else text[:2000] + "…"

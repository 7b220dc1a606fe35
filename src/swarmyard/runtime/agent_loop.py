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
"""

from __future__ import annotations

import asyncio
import dataclasses
import fnmatch
import json
from collections.abc import Awaitable, Callable, Sequence
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

from ..domain import AgentManifest, Approval, EventType, Run, RunStatus, StaleAttempt, Task
from ..domain.policy import (
    EffectivePolicy,
    Exposure,
    ToolDecision,
    ToolVerdict,
    decide_tool,
)
from ..domain.skill import SkillGrant
from ..ports import ModelCall, Tool, ToolContext, ToolCost, ToolError, ToolSpec
from ..services.delegation import DelegationRequest, Delegator, SubtaskOutcome
from ..services.lifecycle import Claimed, Lifecycle, Outcome
from ..services.router import ModelRouter, RouteNote, RoutingFailed
from .compaction import DEFAULT_BUDGET_TOKENS, compact_history
from .delegation_wait import SubtaskWaiter
from .prompts import DELEGATE_SPEC, initial_messages

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


_TEXT_EVENT_CHARS = 2000
# Calls with these effects are journaled as they return, so a resumed run
# never repeats them; read-only tools are simply called again.
_JOURNALED = frozenset({"side_effect", "egress", "command"})


class AwaitingApproval(Exception):
    """A tool call of this step needs a person's decision: park the run."""

    def __init__(self, approval: Approval, events: list[Any]) -> None:
        super().__init__(approval.id)
        self.approval = approval
        self.events = events


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
        self._waiter = waiter
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
        specs = _offered([*manifest.allowed_tools, *grant.tools], tools)
        policy = await self._policies(run.workspace_id, run.role, run.agent_id)
        session = _Session(run, task, manifest, control, messages, specs, policy, tools)
        session.workdir = claimed.workdir
        session.exposure = _exposure_of(messages, tools)
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
                await self._life.park(run, wait.approval, wait.events, _dump(session.messages))
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

    async def _think(self, s: _Session) -> tuple[Outcome, list[Any]] | None:
        run = s.run
        run.steps += 1
        notes: list[RouteNote] = []
        try:
            routed = await self._interruptible(
                self._router.complete(self._call(s), notes), s.control
            )
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
            if s.specs and not routed.candidate.tool_calls:
                events.append(self._tools_not_offered(s, routed.candidate.ref))
            events.append(self._life.event(run, EventType.COMPLETED, {"output": text}))
            return Outcome(RunStatus.SUCCEEDED, output=text), events
        await self._life.record(run, events, _dump(s.messages))
        return None

    def _tools_not_offered(self, s: _Session, model: str) -> Any:
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

    def _call(self, s: _Session) -> ModelCall:
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

    def _notes(self, s: _Session, notes: list[RouteNote]) -> list[Any]:
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

    @staticmethod
    def _cost_reached(s: _Session) -> tuple[str, str] | None:
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

    def _over_limit(self, s: _Session) -> tuple[Outcome, list[Any]] | None:
        """A policy's step or cost limit reached: the run ends, naming the rule."""
        run, policy = s.run, s.policy
        if policy.max_steps is not None and run.steps >= policy.max_steps.value:
            rule = policy.max_steps.rule("max_steps")
            msg = f"no final answer after {policy.max_steps.value} steps ({rule})"
        elif (cost := self._cost_reached(s)) is not None:
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

    @staticmethod
    def _too_deep(s: _Session) -> tuple[str, str] | None:
        """A subtask of this task would be nested deeper than a policy allows."""
        limit = s.policy.max_delegation_depth
        if limit is None or s.task.delegation_depth + 1 <= limit.value:
            return None
        reason = (
            f"a subtask here would be {s.task.delegation_depth + 1} levels deep; "
            f"at most {limit.value} are allowed"
        )
        return limit.rule("max_delegation_depth"), reason

    def _decide(self, s: _Session, name: str) -> ToolDecision:
        tool = s.tools.get(name)
        sandboxed = bool(getattr(tool, "sandboxed", True))
        effects = _effects(s.tools, name)
        return decide_tool(s.policy, name, effects, s.exposure, sandboxed=sandboxed)

    async def _gate(self, s: _Session, calls: list[ToolCallPart]) -> dict[str, tuple[str, str]]:
        """Decide every call of the step before any runs, so parking for an
        approval never leaves half a step done (a resumed step repeats no
        side effect). The model wrote these calls knowing only what earlier
        steps brought in, so that is the exposure they are judged by.
        Answers the refusals: call id -> (rule, reason)."""
        refused: dict[str, tuple[str, str]] = {}
        pending: list[tuple[ToolCallPart, ToolDecision]] = []
        for tc in calls:
            decision = self._decide(s, tc.tool_name)
            if decision.verdict is ToolVerdict.APPROVE:
                approval = await self._life.approval_for(s.run, tc.tool_call_id)
                if approval is None or not approval.status.is_decided:
                    pending.append((tc, decision))
                elif not approval.granted:
                    why = f": {approval.comment}" if approval.comment else ""
                    refused[tc.tool_call_id] = (
                        approval.rule,
                        f"not approved ({approval.status.value} by {approval.decided_by}){why}",
                    )
            elif decision.verdict is ToolVerdict.DENY:
                refused[tc.tool_call_id] = (decision.rule, decision.reason)
            elif tc.tool_name == "delegate" and (deep := self._too_deep(s)) is not None:
                refused[tc.tool_call_id] = deep
        if pending:
            tc, decision = pending[0]
            approval = self._life.new_approval(
                s.run,
                tc.tool_call_id,
                tc.tool_name,
                _args(tc),
                decision,
                timeout_seconds=s.policy.approval_timeout_seconds,
            )
            event = self._life.event(
                s.run,
                EventType.APPROVAL_REQUESTED,
                {
                    "approval_id": approval.id,
                    "tool": tc.tool_name,
                    "call_id": tc.tool_call_id,
                    "args": approval.args,
                    "rule": decision.rule,
                    "reason": decision.reason,
                    "deadline": approval.deadline.isoformat(),
                },
            )
            raise AwaitingApproval(approval, [event])
        return refused

    async def _act(self, s: _Session, calls: list[ToolCallPart]) -> None:
        ctx = ToolContext(
            s.run.workspace_id,
            s.run.id,
            s.task.id,
            s.run.role,
            workdir=s.workdir,
            unsandboxed_allowed=s.policy.may_run_unsandboxed,
        )
        allowed = {spec.name for spec in s.specs}
        refused = await self._gate(s, calls)
        parts, events = [], []
        for tc in calls:
            refusal = refused.get(tc.tool_call_id) or self._spending_refused(s, tc.tool_name)
            spent: list[ToolCost] = []
            if refusal is not None:
                rule, reason = refusal
                ok, content = False, json.dumps({"error": f"refused by {rule}: {reason}"})
                events.append(
                    self._life.event(
                        s.run,
                        EventType.POLICY_DENIED,
                        {
                            "tool": tc.tool_name,
                            "call_id": tc.tool_call_id,
                            "rule": rule,
                            "reason": reason,
                        },
                    )
                )
            else:
                try:
                    ok, content = await self._call_tool(s, tc, ctx, allowed, spent)
                except RunStopped as stop:
                    _charge(s.run, spent)  # paid before the stop came, if anything
                    error = json.dumps({"error": f"interrupted: {stop.reason}"})
                    result = self._tool_result(s, tc, False, error, spent, interrupted=True)
                    stop.events = [*events, result]
                    raise
                _charge(s.run, spent)
                s.exposure = s.exposure.after(_effects(s.tools, tc.tool_name))
            parts.append(
                ToolReturnPart(
                    tool_name=tc.tool_name, content=content, tool_call_id=tc.tool_call_id
                )
            )
            events.append(self._tool_result(s, tc, ok, content, spent))
        s.messages.append(ModelRequest(parts=parts))
        await self._life.record(s.run, events, _dump(s.messages))

    def _tool_result(
        self,
        s: _Session,
        tc: ToolCallPart,
        ok: bool,
        content: str,
        spent: list[ToolCost],
        *,
        interrupted: bool = False,
    ) -> Any:
        payload: dict[str, Any] = {
            "tool": tc.tool_name,
            "call_id": tc.tool_call_id,
            "ok": ok,
            "content": content[:_TEXT_EVENT_CHARS],
        }
        if interrupted:
            payload["interrupted"] = True
        if spent:
            payload["cost_usd"] = sum(c.cost_microusd for c in spent) / 1_000_000
            payload["run_cost_usd"] = s.run.cost_microusd / 1_000_000
        return self._life.event(s.run, EventType.TOOL_RESULT, payload)

    def _spending_refused(self, s: _Session, name: str) -> tuple[str, str] | None:
        """A tool that spends for the run (a consultation) is refused once the
        run's cost limit is reached, as the run's next model call would be,
        so a step asking several questions stops spending at the limit."""
        if not getattr(s.tools.get(name), "spends", False):
            return None
        return self._cost_reached(s)

    async def _call_tool(
        self,
        s: _Session,
        tc: ToolCallPart,
        ctx: ToolContext,
        allowed: set[str],
        spent: list[ToolCost],
    ) -> tuple[bool, str]:
        """Call the tool; what it spends for the run is appended to `spent`."""
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
        journaled = bool(_effects(s.tools, tc.tool_name) & _JOURNALED)
        if journaled and (kept := await self._life.tool_result(s.run, tc.tool_call_id)):
            # It ran before this worker took the run over, in a step never
            # stored: what it spent is not in the run's totals yet.
            ok, content, cost = kept
            if cost is not None:
                spent.append(cost)
            return ok, content
        tool = s.tools[tc.tool_name]
        ctx = dataclasses.replace(ctx, add_cost=spent.append)
        try:
            if getattr(tool, "interruptible", False):
                # Waits on another agent: a stop ends the wait, as it ends a model call.
                content = await self._interruptible(tool.call(args, ctx), s.control)
            else:
                content = await tool.call(args, ctx)
            ok = True
        except ToolError as exc:
            ok, content = False, json.dumps({"error": str(exc)})
        if journaled:
            await self._life.keep_tool_result(
                s.run, tc.tool_call_id, tc.tool_name, ok, content, spent=spent
            )
        return ok, content

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
    manifest: AgentManifest
    control: RunControl
    messages: list[ModelMessage]
    specs: list[ToolSpec]
    policy: EffectivePolicy = field(default_factory=EffectivePolicy)
    tools: dict[str, Tool] = field(default_factory=dict)
    exposure: Exposure = field(default_factory=Exposure)
    last_route: tuple[Any, Any] | None = None
    workdir: str | None = None


def _offered(wanted: Sequence[str], tools: dict[str, Tool]) -> list[ToolSpec]:
    """The tools the role's manifest lists (then its skill packs), in that
    order: by name, or by pattern ("mcp.*", "mcp.git.*"), so a workspace's
    MCP tools reach the roles that ask for them."""
    specs: list[ToolSpec] = []
    seen: set[str] = set()
    for entry in wanted:
        if entry == "delegate":
            names = ["delegate"]
        elif "*" in entry or "?" in entry:
            names = sorted(n for n in tools if fnmatch.fnmatchcase(n, entry))
        else:
            names = [entry] if entry in tools else []
        for name in names:
            if name not in seen:
                seen.add(name)
                specs.append(DELEGATE_SPEC if name == "delegate" else tools[name].spec)
    return specs


def _effects(tools: dict[str, Tool], name: str) -> frozenset[str]:
    tool = tools.get(name)
    return tool.spec.effects if tool else frozenset()


def _exposure_of(messages: list[ModelMessage], tools: dict[str, Tool]) -> Exposure:
    """What the run has taken in, from the tools it called (a resumed run too)."""
    exposure = Exposure()
    done = messages
    if done and isinstance(done[-1], ModelResponse) and done[-1].tool_calls:
        done = done[:-1]  # the calls of the step to be acted on have not run yet
    for message in done:
        if isinstance(message, ModelResponse):
            for tc in message.tool_calls:
                exposure = exposure.after(_effects(tools, tc.tool_name))
    return exposure


def _args(tc: ToolCallPart) -> dict[str, Any]:
    try:
        return tc.args_as_dict()
    except ValueError:
        return {"raw": str(tc.args)[:2000]}


def _charge(run: Run, spent: list[ToolCost]) -> None:
    """What a tool spent for the run, added to its totals (and so its cost limit)."""
    for cost in spent:
        run.cost_microusd += cost.cost_microusd
        run.tokens_in += cost.tokens_in
        run.tokens_out += cost.tokens_out


def _dump(messages: list[ModelMessage]) -> bytes:
    return ModelMessagesTypeAdapter.dump_json(messages)


def _clip(text: str) -> str:
    return text if len(text) < 2000 else text[:2000] + "…"

"""The ACT step of the agent loop: the tool calls of one model answer,
gated by the policies, called, and answered as tool results.

Every call of the step is decided before any runs (`ToolStep._gate`), so
parking for an approval never leaves half a step done. Calls with side
effects are journaled as they return, so a resumed run never repeats
them; read-only tools are simply called again. The `delegate` tool hands
a subtask to another role and waits for it. A tool that waits on another
agent (`interruptible`) is cut short by a stop, and its call ends as
interrupted; what a tool spends on model calls for the run (`spends`,
`ToolContext.add_cost`) is added to the run's totals as it returns, and
once the run's cost limit is reached such a tool is refused.

Also here: which tools a role is offered, and what a run has taken in
from the tools it called (its exposure, which the policies judge by).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from collections.abc import Sequence
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ToolCallPart,
    ToolReturnPart,
)

from ..domain import Approval, EventType, Run
from ..domain.policy import Exposure, ToolDecision, ToolVerdict, decide_tool
from ..ports import Tool, ToolContext, ToolCost, ToolError, ToolSpec
from ..services.delegation import DelegationRequest, Delegator, SubtaskOutcome
from ..services.lifecycle import Lifecycle
from .delegation_wait import SubtaskWaiter
from .prompts import DELEGATE_SPEC
from .run_session import (
    TEXT_EVENT_CHARS,
    RunStopped,
    Session,
    cost_reached,
    dump,
    interruptible,
)

__all__ = ["AwaitingApproval", "ToolStep", "exposure_of", "offered"]

# Calls with these effects are journaled as they return, so a resumed run
# never repeats them; read-only tools are simply called again.
_JOURNALED = frozenset({"side_effect", "egress", "command"})


class AwaitingApproval(Exception):
    """A tool call of this step needs a person's decision: park the run."""

    def __init__(self, approval: Approval, events: list[Any]) -> None:
        super().__init__(approval.id)
        self.approval = approval
        self.events = events


class ToolStep:
    def __init__(self, lifecycle: Lifecycle, delegator: Delegator, waiter: SubtaskWaiter) -> None:
        self._life = lifecycle
        self._delegator = delegator
        self._waiter = waiter

    @staticmethod
    def _too_deep(s: Session) -> tuple[str, str] | None:
        """A subtask of this task would be nested deeper than a policy allows."""
        limit = s.policy.max_delegation_depth
        if limit is None or s.task.delegation_depth + 1 <= limit.value:
            return None
        reason = (
            f"a subtask here would be {s.task.delegation_depth + 1} levels deep; "
            f"at most {limit.value} are allowed"
        )
        return limit.rule("max_delegation_depth"), reason

    def _decide(self, s: Session, name: str) -> ToolDecision:
        tool = s.tools.get(name)
        sandboxed = bool(getattr(tool, "sandboxed", True))
        effects = _effects(s.tools, name)
        return decide_tool(s.policy, name, effects, s.exposure, sandboxed=sandboxed)

    async def _gate(self, s: Session, calls: list[ToolCallPart]) -> dict[str, tuple[str, str]]:
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

    async def act(self, s: Session, calls: list[ToolCallPart]) -> None:
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
        await self._life.record(s.run, events, dump(s.messages))

    def _tool_result(
        self,
        s: Session,
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
            "content": content[:TEXT_EVENT_CHARS],
        }
        if interrupted:
            payload["interrupted"] = True
        if spent:
            payload["cost_usd"] = ToolCost.total(spent).cost_microusd / 1_000_000
            payload["run_cost_usd"] = s.run.cost_microusd / 1_000_000
        return self._life.event(s.run, EventType.TOOL_RESULT, payload)

    def _spending_refused(self, s: Session, name: str) -> tuple[str, str] | None:
        """A tool that spends for the run (a consultation) is refused once the
        run's cost limit is reached, as the run's next model call would be,
        so a step asking several questions stops spending at the limit."""
        if not getattr(s.tools.get(name), "spends", False):
            return None
        return cost_reached(s)

    async def _call_tool(
        self,
        s: Session,
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
                content = await interruptible(tool.call(args, ctx), s.control)
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

    async def _delegate(self, s: Session, call_id: str, args: dict[str, Any]) -> tuple[bool, str]:
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


def offered(wanted: Sequence[str], tools: dict[str, Tool]) -> list[ToolSpec]:
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


def exposure_of(messages: list[ModelMessage], tools: dict[str, Tool]) -> Exposure:
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
    cost = ToolCost.total(spent)
    run.cost_microusd += cost.cost_microusd
    run.tokens_in += cost.tokens_in
    run.tokens_out += cost.tokens_out

"""Consultation tools: ask another role a question, or ask the decision-maker
to choose, and wait (up to a deadline) for the answer.

Both are request/reply on the bus (`domain.consultation` has the wire
format): a worker serving the asked role answers as that role with one
model call (`services.consultations`). Nobody answering in time is a tool
error the model can act on, never a failed run.

`agent.request_help` shares the question with another agent of the same
workspace: it reads private context, but sends nothing off the platform.
`agent.request_decision` also records the decision as shared context, a
side effect: the agent loop journals its answer, so a resumed run does not
ask again.

The answer is the asking run's spending: the reply says what it cost, and
the tool reports it through `ToolContext.add_cost`, so the run's totals and
its cost limit include it. Both tools are `interruptible`: waiting leaves
nothing half done on this side, so the agent loop ends the wait at once when
the run is stopped, and a reply that comes later finds nobody listening.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ...domain import subjects
from ...domain.consultation import (
    DECISION_ROLE,
    DEFAULT_DEADLINE_SECONDS,
    MAX_CONTEXT,
    MAX_DEADLINE_SECONDS,
    MAX_OPTION_CHARS,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_DEADLINE_SECONDS,
    MIN_OPTIONS,
    ConsultKind,
    ConsultReply,
    ConsultRequest,
    MalformedConsultation,
    check_context,
    check_deadline,
    check_options,
    check_question,
)
from ...ports import Bus, Tool, ToolContext, ToolCost, ToolError, ToolSpec

__all__ = ["RequestDecisionTool", "RequestHelpTool", "RoleSource", "consult_tools"]

# The roles a workspace knows (its catalogue's and its installed agents').
RoleSource = Callable[[str], Awaitable[set[str]]]

_QUESTION = {"type": "string", "maxLength": MAX_QUESTION, "description": "What you want to know"}
_DEADLINE = {
    "type": "number",
    "minimum": MIN_DEADLINE_SECONDS,
    "maximum": MAX_DEADLINE_SECONDS,
    "description": f"How long to wait for the answer (default {DEFAULT_DEADLINE_SECONDS:g} s)",
}


def _args(args: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ToolError(f"unknown argument(s): {', '.join(unknown)}")


async def _ask(bus: Bus, subject: str, request: ConsultRequest, ctx: ToolContext) -> ConsultReply:
    """Send the request and read the reply; every way of getting no answer
    is a `ToolError` saying so. What answering cost is reported first, a
    refusal's too: it was paid either way."""
    try:
        message = await bus.request(subject, request.to_bytes(), timeout=request.deadline_seconds)
    except TimeoutError:
        raise ToolError(
            f"no {request.role} answered within {request.deadline_seconds:g} s"
        ) from None
    try:
        reply = ConsultReply.from_bytes(message.data)
    except MalformedConsultation as exc:
        raise ToolError(f"the {request.role}'s answer could not be read: {exc}") from None
    if ctx.add_cost is not None and (reply.cost_microusd or reply.tokens_in or reply.tokens_out):
        ctx.add_cost(ToolCost(reply.cost_microusd, reply.tokens_in, reply.tokens_out))
    if not reply.ok:
        raise ToolError(reply.error)
    return reply


class _Consulting:
    """What the agent loop reads of both tools (`getattr`, as `sandboxed`)."""

    # Waiting for an answer may be abandoned at any moment: a stop ends it at once.
    interruptible = True
    # The answer is a model call paid by the asking run: once the run's cost
    # limit is reached, the loop refuses another, as it would its own next call.
    spends = True


class RequestHelpTool(_Consulting):
    spec = ToolSpec(
        name="agent.request_help",
        description=(
            "Ask an agent of another role of this workspace a question (e.g. the architect "
            "about a design constraint) and wait for its answer. Returns JSON "
            "{role, agent, answer}."
        ),
        effects=frozenset({"reads_private"}),
        parameters={
            "type": "object",
            "properties": {
                "role": {"type": "string", "description": "The role to ask, e.g. architect"},
                "question": _QUESTION,
                "deadline_seconds": _DEADLINE,
            },
            "required": ["role", "question"],
            "additionalProperties": False,
        },
    )

    def __init__(self, bus: Bus, roles: RoleSource) -> None:
        self._bus = bus
        self._roles = roles

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        _args(args, {"role", "question", "deadline_seconds"})
        role = args.get("role")
        if not isinstance(role, str) or not role.strip():
            raise ToolError("agent.request_help needs the role to ask, e.g. architect")
        role = role.strip()
        if role == ctx.role:
            raise ToolError(
                f"you are the {role}: ask another role, or answer the question yourself"
            )
        try:
            question = check_question(args.get("question"))
            deadline = check_deadline(args.get("deadline_seconds"))
        except MalformedConsultation as exc:
            raise ToolError(str(exc)) from None
        known = await self._roles(ctx.workspace_id)
        if role not in known:
            raise ToolError(
                f"unknown role {role!r}; the roles here are: {', '.join(sorted(known))}"
            )
        request = ConsultRequest(
            kind=ConsultKind.HELP,
            workspace_id=ctx.workspace_id,
            role=role,
            asking_role=ctx.role,
            run_id=ctx.run_id,
            task_id=ctx.task_id,
            question=question,
            deadline_seconds=deadline,
        )
        reply = await _ask(self._bus, subjects.agent_help(ctx.workspace_id, role), request, ctx)
        return json.dumps({"role": role, "agent": reply.agent, "answer": reply.answer})


class RequestDecisionTool(_Consulting):
    spec = ToolSpec(
        name="agent.request_decision",
        description=(
            f"Ask the {DECISION_ROLE} to choose one of {MIN_OPTIONS} to {MAX_OPTIONS} options "
            "and wait for its decision, which is recorded as shared context for the whole "
            "workspace. Returns JSON {decided, choice (1-based), option, rationale, "
            "decision_id}; decided is false when it named no option."
        ),
        effects=frozenset({"side_effect", "reads_private"}),
        parameters={
            "type": "object",
            "properties": {
                "question": _QUESTION,
                "options": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": MAX_OPTION_CHARS},
                    "minItems": MIN_OPTIONS,
                    "maxItems": MAX_OPTIONS,
                    "description": "The options to choose from",
                },
                "context": {
                    "type": "string",
                    "maxLength": MAX_CONTEXT,
                    "description": "Evidence, constraints and positions the decision needs",
                },
                "deadline_seconds": _DEADLINE,
            },
            "required": ["question", "options"],
            "additionalProperties": False,
        },
    )

    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        _args(args, {"question", "options", "context", "deadline_seconds"})
        if ctx.role == DECISION_ROLE:
            raise ToolError(f"you are the {DECISION_ROLE}: make this decision yourself")
        try:
            request = ConsultRequest(
                kind=ConsultKind.DECISION,
                workspace_id=ctx.workspace_id,
                role=DECISION_ROLE,
                asking_role=ctx.role,
                run_id=ctx.run_id,
                task_id=ctx.task_id,
                question=check_question(args.get("question")),
                options=check_options(args.get("options")),
                context=check_context(args.get("context")),
                deadline_seconds=check_deadline(args.get("deadline_seconds")),
            )
        except MalformedConsultation as exc:
            raise ToolError(str(exc)) from None
        reply = await _ask(self._bus, subjects.agent_decision(ctx.workspace_id), request, ctx)
        if reply.choice is None:
            return json.dumps(
                {
                    "decided": False,
                    "reason": f"the {DECISION_ROLE} named none of the options; nothing was "
                    "recorded. Its answer is below: ask again with clearer options, or decide "
                    "within your own remit.",
                    "answer": reply.answer,
                }
            )
        return json.dumps(
            {
                "decided": True,
                "choice": reply.choice,
                "option": reply.option,
                "rationale": reply.rationale,
                "decision_id": reply.decision_id,
            }
        )


def consult_tools(bus: Bus, roles: RoleSource) -> dict[str, Tool]:
    tools: list[Tool] = [RequestHelpTool(bus, roles), RequestDecisionTool(bus)]
    return {t.spec.name: t for t in tools}

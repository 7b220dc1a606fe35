"""What an offline role sees of one THINK step, and what it answers.

The offline model keeps no state between calls: a resumed run on another
worker must get the same answers. So each call re-reads the conversation
into a `Turn` — which tools were called, with which arguments, and what came
back — and a role decides its next move from that alone. A role answers
with a `Reply`: text, plus the tool calls to make (none means RESPOND).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    RetryFeedbackPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)

from ....ports import ModelCall
from .text import clip, strip_label

__all__ = ["Play", "Reply", "ToolCall", "ToolOutcome", "Turn", "act", "answer"]

# Delegation statuses that mean the other role did the work.
_DONE = "done"


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    """The next move: `text` (without the offline label) and tool calls."""

    text: str
    calls: tuple[ToolCall, ...] = ()

    @property
    def is_final(self) -> bool:
        return not self.calls


def answer(*lines: str) -> Reply:
    """RESPOND: a final answer (its lines), no tool calls."""
    return Reply("\n".join(lines).strip())


def act(text: str, tool: str, **args: Any) -> Reply:
    """ACT: say what is being done and call one tool."""
    return Reply(text.strip(), (ToolCall(tool, dict(args)),))


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """One tool call of this run together with the answer it got."""

    call_id: str
    name: str
    args: dict[str, Any]
    text: str  # the returned content as text
    data: dict[str, Any] = field(default_factory=dict)  # the content, if it is a JSON object
    failed: bool = False  # the platform reported an error instead of a result

    @property
    def error(self) -> str:
        reason = self.data.get("error")
        return str(reason) if reason else clip(self.text, 300)

    # A `delegate` return is {"task_id", "status", "result", "reason"}.
    @property
    def status(self) -> str:
        return str(self.data.get("status", ""))

    @property
    def result(self) -> str:
        return strip_label(str(self.data.get("result") or ""))

    @property
    def reason(self) -> str:
        return str(self.data.get("reason") or "")

    @property
    def task_id(self) -> str:
        return str(self.data.get("task_id") or "")

    @property
    def delegated_ok(self) -> bool:
        return self.status == _DONE

    def delegation_note(self, what: str) -> str:
        """One sentence on a delegation that did not deliver: refused, failed or cancelled."""
        role = self.args.get("role", "the other role")
        why = self.reason or (clip(self.result, 200) if self.result else "no reason given")
        if self.status == "refused":
            return f"{what} could not be delegated: the platform refused it ({why})."
        return f"{what} delegated to {role} ended as {self.status or 'unknown'}: {why}."


def _content_text(part: ToolReturnPart) -> str:
    content = part.content
    return content if isinstance(content, str) else part.model_response_str()


def _as_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _brief_of(messages: list[Any]) -> str:
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""


class Turn:
    """The conversation of one run, read for the next step."""

    def __init__(self, call: ModelCall) -> None:
        self.call = call
        self.tools = frozenset(spec.name for spec in call.tools)
        self.brief = _brief_of(call.messages).strip()
        self.step = sum(1 for m in call.messages if isinstance(m, ModelResponse))
        self.outcomes: list[ToolOutcome] = []
        # Errors and retry feedback in the newest request: answered, never retried.
        self.fresh_errors: list[ToolOutcome] = []
        self.feedback: str = ""
        self._read(call.messages)

    def _read(self, messages: list[Any]) -> None:
        calls: dict[str, ToolCallPart] = {}
        for index, message in enumerate(messages):
            newest = index == len(messages) - 1
            if isinstance(message, ModelResponse):
                for part in message.parts:
                    if isinstance(part, ToolCallPart):
                        calls[part.tool_call_id] = part
                continue
            for part in message.parts:
                if isinstance(part, RetryFeedbackPart) and newest:
                    self.feedback = clip(str(part.content), 300)
                if not isinstance(part, ToolReturnPart):
                    continue
                origin = calls.get(part.tool_call_id)
                text = _content_text(part)
                data = _as_object(text)
                outcome = ToolOutcome(
                    call_id=part.tool_call_id,
                    name=part.tool_name,
                    args=origin.args_as_dict() if origin is not None else {},
                    text=text,
                    data=data,
                    failed=part.outcome != "success" or (set(data) == {"error"}),
                )
                self.outcomes.append(outcome)
                if outcome.failed and newest:
                    self.fresh_errors.append(outcome)

    # ------------------------------------------------------------ task fields

    @property
    def role(self) -> str:
        return self.call.role.strip().lower().replace("_", "-")

    @property
    def task_type(self) -> str:
        return self.call.task_type.strip().lower()

    @property
    def title(self) -> str:
        if self.call.task_title.strip():
            return clip(self.call.task_title, 120)
        first_line = self.brief.splitlines()[0] if self.brief else ""
        return clip(first_line, 80) or "the task"

    @property
    def description(self) -> str:
        # Without a description the title is the whole requirement; the brief
        # would only repeat the title with its metadata.
        if self.call.task_id or self.call.task_title:
            return self.call.task_description.strip() or self.title
        return self.brief

    @property
    def complexity(self) -> str:
        return self.call.complexity.strip().lower() or "medium"

    @property
    def parent_id(self) -> str:
        return (self.call.parent_task_id or "").strip()

    # ------------------------------------------------------------- history

    def offers(self, tool: str) -> bool:
        return tool in self.tools

    def called(self, tool: str) -> bool:
        return any(o.name == tool for o in self.outcomes)

    def outcomes_of(self, tool: str) -> list[ToolOutcome]:
        return [o for o in self.outcomes if o.name == tool]

    def delegations(self, role: str | None = None) -> list[ToolOutcome]:
        return [
            o
            for o in self.outcomes_of("delegate")
            if role is None or str(o.args.get("role", "")) == role
        ]

    def parent(self) -> ToolOutcome | None:
        """The `read_task` answer about the parent task, if it was read."""
        for outcome in self.outcomes_of("read_task"):
            if outcome.args.get("task_id") == self.parent_id and not outcome.failed:
                return outcome
        return None

    def should_read_parent(self) -> bool:
        """Read the parent once, if there is one and the tool is offered."""
        asked = any(o.args.get("task_id") == self.parent_id for o in self.outcomes_of("read_task"))
        return bool(self.parent_id) and self.offers("read_task") and not asked


Play = Callable[[Turn], Reply]

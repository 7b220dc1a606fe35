"""One readable line per run event.

Run events are what a person watches to see an agent work: model decisions,
tool calls and their results, delegations. `task create --wait`,
`run events` and `run events --follow` all show them with these words, so
the three read the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["TERMINAL_RUN_EVENTS", "clip", "describe", "summarize"]

TERMINAL_RUN_EVENTS = frozenset({"completed", "error", "stopped"})
_WIDTH = 160

Payload = Mapping[str, Any]


def clip(text: str, width: int = _WIDTH) -> str:
    """`text` on one line, cut to `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def summarize(event: Mapping[str, Any]) -> str:
    """``"tool_call read_task {...}"``: the event's type, then what matters in it."""
    return clip(f"{event.get('type') or 'event'} {describe(event)}".rstrip())


def describe(event: Mapping[str, Any]) -> str:
    """What matters in the event's payload, on one line."""
    payload = event.get("payload")
    if not isinstance(payload, Mapping):
        payload = {} if payload is None else {"value": payload}
    return clip(_DESCRIBE.get(str(event.get("type")), _compact)(payload))


def _compact(payload: Payload) -> str:
    return json.dumps(payload, ensure_ascii=False, default=str) if payload else ""


def _llm_call(p: Payload) -> str:
    parts = [str(p.get("model") or "?")]
    if p.get("offline"):
        parts.append("(offline)")
    if p.get("tokens_in") is not None or p.get("tokens_out") is not None:
        parts.append(f"tokens {p.get('tokens_in', 0)}->{p.get('tokens_out', 0)}")
    if p.get("cost_usd") is not None:
        parts.append(f"${float(p['cost_usd']):.4f}")
    if isinstance(p.get("duration_ms"), int | float):
        ms = float(p["duration_ms"])
        parts.append(f"{ms:.0f}ms" if ms >= 10 else f"{ms:.1f}ms")
    text = " ".join(parts)
    return f"{text}: {p['text']}" if p.get("text") else text


def _started(p: Payload) -> str:
    """Who took the run, and why the orchestrator chose them."""
    agent = p.get("agent") or p.get("agent_id")
    if agent is None:
        return _compact(p)
    assignment = p.get("assignment")
    reason = assignment.get("reason") if isinstance(assignment, Mapping) else None
    return f"by {agent}" + (f": {reason}" if reason else "")


def _tool_call(p: Payload) -> str:
    args = p.get("args")
    shown = json.dumps(args, ensure_ascii=False, default=str) if args is not None else ""
    return f"{p.get('tool', '?')} {shown}"


def _tool_result(p: Payload) -> str:
    outcome = "ok" if p.get("ok", True) else "failed"
    content = p.get("content")
    if content is not None and not isinstance(content, str):
        content = json.dumps(content, ensure_ascii=False, default=str)
    return f"{p.get('tool', '?')} {outcome}" + (f": {content}" if content else "")


def _delegated(p: Payload) -> str:
    return f"-> {p.get('role', '?')}: {p.get('title', '')} ({p.get('subtask_id', '?')})"


def _completed(p: Payload) -> str:
    output = p.get("output")
    if output is None:
        return ""
    return output if isinstance(output, str) else json.dumps(output, default=str)


def _error(p: Payload) -> str:
    return str(p.get("message") or _compact(p))


def _step(p: Payload) -> str:
    return str(p.get("step", "")) if set(p) <= {"step"} else _compact(p)


def _progress(p: Payload) -> str:
    """A note the platform wrote in words (e.g. a model that cannot call tools)."""
    message = p.get("message")
    return message if isinstance(message, str) else _compact(p)


_DESCRIBE: dict[str, Callable[[Payload], str]] = {
    "started": _started,
    "progress": _progress,
    "llm_call": _llm_call,
    "tool_call": _tool_call,
    "tool_result": _tool_result,
    "delegated": _delegated,
    "completed": _completed,
    "error": _error,
    "step": _step,
}

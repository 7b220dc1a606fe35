"""JSON shapes of domain objects, shared by the API, the bus and the CLI.

One function per entity so a task looks the same in a REST answer, a
board message on the WebSocket and an SSE event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain import (
    MICROUSD_PER_CENT,
    Agent,
    AgentManifest,
    Approval,
    LearningProfile,
    ModelPrice,
    Project,
    Run,
    Schedule,
    Task,
    UsageRow,
)
from .budgets import BudgetStatus

__all__ = [
    "agent_view",
    "approval_view",
    "budget_view",
    "learning_view",
    "manifest_view",
    "microusd_to_usd",
    "price_view",
    "project_view",
    "run_view",
    "schedule_view",
    "task_view",
    "usage_row_view",
]


def microusd_to_usd(value: int | float) -> float:
    return round(value / 1_000_000, 6)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _cents(microusd: int | None) -> int | float | None:
    """Whole cents as an int (limits are set in cents), spending to the µUSD."""
    if microusd is None:
        return None
    whole, rest = divmod(microusd, MICROUSD_PER_CENT)
    return whole if rest == 0 else round(microusd / MICROUSD_PER_CENT, 4)


def task_view(t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "project_id": t.project_id,
        "title": t.title,
        "description": t.description,
        "type": t.type,
        "priority": t.priority.value,
        "complexity": t.complexity.value,
        "required_role": t.required_role,
        "required_capabilities": list(t.required_capabilities),
        "depends_on": list(t.depends_on),
        "parent_id": t.parent_id,
        "delegation_depth": t.delegation_depth,
        "status": t.status.value,
        "assignee_agent_id": t.assignee_agent_id,
        "result": t.result,
        "waiting_reason": t.waiting_reason,
        "cost_usd": microusd_to_usd(t.cost_microusd),
        "tokens_in": t.tokens_in,
        "tokens_out": t.tokens_out,
        "attempts": t.attempts,
        "max_attempts": t.max_attempts,
        "review_required": t.review_required,
        "labels": dict(t.labels),
        "version": t.version,
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
        "finished_at": _iso(t.finished_at),
    }


def run_view(r: Run) -> dict[str, Any]:
    return {
        "id": r.id,
        "task_id": r.task_id,
        "agent_id": r.agent_id,
        "role": r.role,
        "status": r.status.value,
        "attempt": r.attempt,
        "model": r.model,
        "steps": r.steps,
        "tokens_in": r.tokens_in,
        "tokens_out": r.tokens_out,
        "cost_usd": microusd_to_usd(r.cost_microusd),
        "output": r.output,
        "error": r.error,
        "assignment": r.assignment,
        "stop_requested": r.stop_requested,
        "created_at": _iso(r.created_at),
        "started_at": _iso(r.started_at),
        "finished_at": _iso(r.finished_at),
    }


def agent_view(a: Agent, now: datetime) -> dict[str, Any]:
    uptime = (now - a.started_at).total_seconds() if a.started_at and a.takes_work else 0.0
    return {
        "id": a.id,
        "name": a.name,
        "manifest_id": a.manifest_id,
        "manifest_version": a.manifest_version,
        "role": a.role,
        "replicas": a.replicas,
        "status": a.status.value,
        "health": a.health.value,
        "running": a.running,
        "load": round(a.load, 4),
        "free_slots": a.free_slots,
        "uptime_seconds": round(max(0.0, uptime), 3),
        "tasks_succeeded": a.tasks_succeeded,
        "tasks_failed": a.tasks_failed,
        "tokens_in": a.tokens_in,
        "tokens_out": a.tokens_out,
        "cost_usd": microusd_to_usd(a.cost_microusd),
        "errors": a.errors,
        "created_at": _iso(a.created_at),
    }


def approval_view(a: Approval) -> dict[str, Any]:
    return {
        "id": a.id,
        "run_id": a.run_id,
        "task_id": a.task_id,
        "call_id": a.call_id,
        "tool": a.tool,
        "args": a.args,
        "role": a.role,
        "rule": a.rule,
        "reason": a.reason,
        "status": a.status.value,
        "requested_at": _iso(a.requested_at),
        "deadline": _iso(a.deadline),
        "decided_at": _iso(a.decided_at),
        "decided_by": a.decided_by,
        "comment": a.comment,
    }


def learning_view(p: LearningProfile) -> dict[str, Any]:
    return {
        "task_type": p.task_type,
        "executions": p.executions,
        "success_rate": round(p.success_rate, 4),
        "expertise": round(p.expertise, 4),
        "confidence": round(p.confidence, 4),
        "avg_duration_s": round(p.avg_duration_s, 3),
        "avg_cost_usd": microusd_to_usd(p.avg_cost_microusd),
        "updated_at": _iso(p.updated_at),
    }


def manifest_view(m: AgentManifest) -> dict[str, Any]:
    return m.model_dump(mode="json")


def project_view(p: Project) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "workdir": p.workdir,
        "created_at": _iso(p.created_at),
        "updated_at": _iso(p.updated_at),
    }


def schedule_view(s: Schedule) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "cron": s.cron,
        "timezone": s.timezone,
        "task": dict(s.template),
        "missed": s.missed.value,
        "enabled": s.enabled,
        # A paused schedule has no next run: resuming waits for the next tick from then.
        "next_run_at": _iso(s.next_run_at) if s.enabled else None,
        "last_run_at": _iso(s.last_run_at),
        "last_task_id": s.last_task_id,
        "runs": s.runs,
        "created_at": _iso(s.created_at),
    }


def budget_view(status: BudgetStatus) -> dict[str, Any]:
    b = status.budget
    return {
        "scope": b.scope.value,
        "scope_id": b.scope_id,
        "monthly_cents": _cents(b.monthly_limit_microusd),
        "weekly_cents": _cents(b.weekly_limit_microusd),
        "on_exceed": b.on_exceed.value,
        "updated_at": _iso(b.updated_at),
        "updated_by": b.updated_by,
        "windows": [
            {
                "period": w.period,
                "window_start": w.window_start,
                "limit_cents": _cents(w.limit_microusd),
                "spent_cents": _cents(w.spent_microusd),
                "reserved_cents": _cents(w.reserved_microusd),
                "utilisation": round(w.utilisation, 4),
                "tier": w.tier.value,
            }
            for w in status.windows
        ],
    }


def usage_row_view(row: UsageRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "calls": row.calls,
        "failed_calls": row.failed_calls,
        "tokens_in": row.tokens_in,
        "tokens_out": row.tokens_out,
        "tokens_cached": row.tokens_cached,
        "cost_usd": microusd_to_usd(row.cost_microusd),
    }


def price_view(p: ModelPrice) -> dict[str, Any]:
    return {
        "model": p.model_ref,
        "input_per_mtok": p.input_per_mtok,
        "output_per_mtok": p.output_per_mtok,
        "cached_input_per_mtok": p.cached_input_per_mtok,
        "updated_at": _iso(p.updated_at),
        "updated_by": p.updated_by,
    }

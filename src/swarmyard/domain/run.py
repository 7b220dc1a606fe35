"""Runs (one attempt of one agent at one task) and their append-only events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .states import RUN_MACHINE, RunStatus

__all__ = ["EventType", "Run", "RunEvent"]


class EventType(StrEnum):
    STARTED = "started"
    PROGRESS = "progress"
    MESSAGE = "message"
    STEP = "step"
    LLM_CALL = "llm_call"
    # The router's decisions: model chosen and why, retries, fallbacks, breaker changes.
    ROUTING = "routing"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    DELEGATED = "delegated"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_DECIDED = "approval_decided"
    # A policy refused something (a tool call, a limit reached); names the rule.
    POLICY_DENIED = "policy_denied"
    COMPLETED = "completed"
    ERROR = "error"
    STOPPED = "stopped"


@dataclass(slots=True)
class Run:
    id: str
    workspace_id: str
    task_id: str
    agent_id: str
    role: str
    created_at: datetime
    status: RunStatus = RunStatus.PENDING
    # Fencing token: bumped by every claim; a write carrying an older attempt is refused.
    attempt: int = 0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    input: str = ""
    output: str | None = None
    error: str | None = None
    steps: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_microusd: int = 0
    model: str | None = None
    stop_requested: bool = False
    # Why the orchestrator chose this agent: the scores of every candidate.
    assignment: dict[str, Any] = field(default_factory=dict)
    # Sequence number the next event of this run will carry.
    next_seq: int = 1
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def move(self, target: RunStatus, *, now: datetime) -> None:
        self.status = RUN_MACHINE.check(self.status, target)
        if target is RunStatus.RUNNING and self.started_at is None:
            self.started_at = now
        if target.is_terminal:
            self.finished_at = now
            self.lease_owner = None
            self.lease_expires_at = None


@dataclass(frozen=True, slots=True)
class RunEvent:
    run_id: str
    workspace_id: str
    seq: int
    type: EventType
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    task_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "task_id": self.task_id,
            "seq": self.seq,
            "type": self.type.value,
            "at": self.at.isoformat(),
            "payload": self.payload,
        }

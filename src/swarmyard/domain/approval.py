"""Approvals: a person's yes or no to one tool call a policy held back.

An approval belongs to one tool call of one run (`run_id`, `call_id` are
unique together), so a run resumed after a crash or a restart finds the
request it made instead of asking twice, and a decision is applied once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .states import StateMachine

__all__ = ["APPROVAL_MACHINE", "Approval", "ApprovalStatus"]


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"  # nobody decided before the deadline: treated as rejected

    @property
    def is_decided(self) -> bool:
        return self is not ApprovalStatus.PENDING


_A = ApprovalStatus
APPROVAL_MACHINE: StateMachine[ApprovalStatus] = StateMachine(
    "approval",
    {
        _A.PENDING: frozenset({_A.APPROVED, _A.REJECTED, _A.EXPIRED}),
        _A.APPROVED: frozenset(),
        _A.REJECTED: frozenset(),
        _A.EXPIRED: frozenset(),
    },
)


@dataclass(slots=True)
class Approval:
    id: str
    workspace_id: str
    run_id: str
    task_id: str
    call_id: str
    tool: str
    rule: str  # the policy setting that asked for it
    reason: str
    requested_at: datetime
    deadline: datetime
    args: dict[str, Any] = field(default_factory=dict)
    role: str = ""
    status: ApprovalStatus = ApprovalStatus.PENDING
    decided_at: datetime | None = None
    decided_by: str | None = None
    comment: str = ""

    def decide(self, target: ApprovalStatus, *, by: str, at: datetime, comment: str = "") -> None:
        self.status = APPROVAL_MACHINE.check(self.status, target)
        self.decided_by, self.decided_at, self.comment = by, at, comment

    @property
    def granted(self) -> bool:
        return self.status is ApprovalStatus.APPROVED

"""Domain errors.

Every error a user can provoke is a `DomainError` with a stable `code`, a
message that names the problem and optional structured `details`; the API
turns them into the JSON error shape and the CLI into a message with a
non-zero exit code, so no layer has to invent its own wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "Conflict",
    "DomainError",
    "IllegalTransition",
    "NotFound",
    "Problem",
    "StaleAttempt",
    "ValidationFailed",
]


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The object does not exist in this workspace (or exists in another one)."""

    code = "not_found"
    status = 404

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} not found", details={"kind": kind, "id": ident})
        self.kind = kind
        self.ident = ident


class Conflict(DomainError):
    """The request is well formed but contradicts the current state."""

    code = "conflict"
    status = 409


class IllegalTransition(Conflict):
    """A state machine refused a move; the message names both states."""

    code = "illegal_transition"

    def __init__(self, machine: str, current: str, target: str, allowed: list[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"{machine} cannot move from {current!r} to {target!r} (allowed from {current!r}: "
            f"{allowed_text})",
            details={"machine": machine, "from": current, "to": target, "allowed": allowed},
        )
        self.current = current
        self.target = target


class StaleAttempt(Conflict):
    """A write from an older run attempt (or lost lease) was fenced off."""

    code = "stale_attempt"


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem: where (a dotted field path) and why."""

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class ValidationFailed(DomainError):
    """Input was refused; every problem is listed, not only the first."""

    code = "validation_failed"
    status = 422

    def __init__(self, what: str, problems: list[Problem]) -> None:
        lines = "; ".join(str(p) for p in problems)
        super().__init__(f"invalid {what}: {lines}", details=[p.as_dict() for p in problems])
        self.problems = problems

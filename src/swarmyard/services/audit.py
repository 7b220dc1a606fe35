"""The audit trail: who did what to which object, when, from where, and how it ended."""

from __future__ import annotations

from typing import Any

from ..domain import AuditEntry
from ..ports import UnitOfWork
from .deps import Deps

__all__ = ["record_audit"]


async def record_audit(
    uow: UnitOfWork,
    deps: Deps,
    *,
    actor: str,
    action: str,
    resource: str,
    result: str = "ok",
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an entry inside the caller's transaction."""
    await uow.audit.add(
        AuditEntry(
            id=deps.ids.new("audit"),
            workspace_id=uow.workspace_id,
            actor=actor,
            action=action,
            resource=resource,
            result=result,
            at=deps.clock.now(),
            ip=ip,
            details=details or {},
        )
    )

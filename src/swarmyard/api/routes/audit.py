"""/audit: the workspace's audit log, newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from ...domain import AuditEntry, Principal
from ...ports import AuditFilter, Page
from ..context import ContainerDep, acting
from ..responses import MAX_LIMIT, json_response, page_of

router = APIRouter(tags=["audit"])


def audit_view(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "actor": e.actor,
        "action": e.action,
        "resource": e.resource,
        "result": e.result,
        "at": e.at.isoformat(),
        "ip": e.ip,
        "details": e.details,
    }


@router.get("/audit")
async def list_audit(  # noqa: PLR0917 (one parameter per query filter)
    c: ContainerDep,
    p: Annotated[Principal, acting("audit.read")],
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> Response:
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # a moment that names no zone is UTC, as in /usage
    async with c.store.unit_of_work(p.workspace_id) as uow:
        entries = await uow.audit.list(
            AuditFilter(actor=actor, action=action, since=since),
            Page(limit=limit + 1, after=cursor),
        )
    return json_response(page_of([audit_view(e) for e in entries], limit))

"""/approvals: tool calls a policy held back, and people's decisions on them.

Reading them is reading runs (`run.read`); deciding is `approval.decide`
(members and above). A decision puts the waiting run back to work.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain import ApprovalStatus, Principal, Problem, ValidationFailed
from ...services.approvals import MAX_COMMENT, Decision
from ...services.views import approval_view
from ..context import ContainerDep, acting
from ..responses import MAX_LIMIT, idempotent, json_response

router = APIRouter(tags=["approvals"])


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field(default="", max_length=MAX_COMMENT)


@router.get("/approvals")
async def list_approvals(
    c: ContainerDep,
    p: Annotated[Principal, acting("run.read")],
    status: Annotated[str | None, Query(max_length=20)] = None,
    run_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Response:
    wanted = None
    if status:
        try:
            wanted = ApprovalStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in ApprovalStatus)
            raise ValidationFailed(
                "approval query", [Problem("status", f"{status!r} is not one of: {known}")]
            ) from None
    found = await c.approvals.list(p.workspace_id, status=wanted, run_id=run_id, limit=limit)
    return json_response({"items": [approval_view(a) for a in found], "next_cursor": None})


@router.get("/approvals/{approval_id}")
async def show_approval(
    approval_id: str, c: ContainerDep, p: Annotated[Principal, acting("run.read")]
) -> Response:
    return json_response(approval_view(await c.approvals.get(p.workspace_id, approval_id)))


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@router.post("/approvals/{approval_id}/{verdict}")
async def decide(  # noqa: PLR0917 (FastAPI's parameters: path, body, dependencies)
    request: Request,
    approval_id: str,
    verdict: Verdict,
    c: ContainerDep,
    p: Annotated[Principal, acting("approval.decide")],
    body: DecisionBody | None = None,
) -> Response:
    """`approve` or `reject`, once; the comment goes into the run's log."""
    ws = p.workspace_id
    decision = Decision(verdict is Verdict.APPROVE, (body or DecisionBody()).comment)

    async def produce() -> tuple[int, Any]:
        decided = await c.approvals.decide(ws, approval_id, decision, by=p.actor)
        return 200, approval_view(decided)

    return await idempotent(
        request, c, ws, produce, audit=f"approval.{verdict.value}", ident=approval_id
    )

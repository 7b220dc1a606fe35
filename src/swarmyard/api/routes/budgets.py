"""/budgets: spending limits per workspace, role, project or agent, with what
is spent and held of each current window.

A budget is known by what it is for (its scope and scope id), not by an id,
so it is set with PUT on the collection and removed by its scope's path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from ...domain import Budget, Principal
from ...runtime.wiring import Container
from ...services.budgets import BudgetStatus
from ...services.views import budget_view
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response
from ..schemas import BudgetPut

router = APIRouter(tags=["budgets"])


@router.get("/budgets")
async def list_budgets(c: ContainerDep, p: Annotated[Principal, acting("budget.read")]) -> Response:
    statuses = await c.budgets.list(p.workspace_id)
    return json_response({"items": [budget_view(s) for s in statuses]})


@router.put("/budgets")
async def put_budget(
    request: Request,
    body: BudgetPut,
    c: ContainerDep,
    p: Annotated[Principal, acting("budget.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        budget = await c.budgets.put(
            ws,
            scope=body.scope,
            scope_id=body.scope_id,
            monthly_cents=body.monthly_cents,
            weekly_cents=body.weekly_cents,
            on_exceed=body.on_exceed,
            by=p.actor,
        )
        return 200, budget_view(await _status_of(c, budget))

    label = f"{body.scope}:{body.scope_id}" if body.scope_id else body.scope
    return await idempotent(request, c, ws, produce, audit="budget.write", ident=label)


async def _status_of(c: Container, budget: Budget) -> BudgetStatus:
    """The budget as the list shows it: with its windows' spending (a budget
    set on a scope that already spent starts from the ledger's sum)."""
    for status in await c.budgets.list(budget.workspace_id):
        if status.budget.scope is budget.scope and status.budget.scope_id == budget.scope_id:
            return status
    return BudgetStatus(budget, [])  # removed in between: nothing is counted for it


@router.delete("/budgets/{scope}", status_code=204)
async def delete_scope_budget(
    request: Request,
    scope: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("budget.write")],
) -> Response:
    return await _delete(request, c, p, scope, "")


@router.delete("/budgets/{scope}/{scope_id}", status_code=204)
async def delete_budget(
    request: Request,
    scope: str,
    scope_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("budget.write")],
) -> Response:
    return await _delete(request, c, p, scope, scope_id)


async def _delete(
    request: Request, c: Container, p: Principal, scope: str, scope_id: str
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.budgets.delete(ws, scope=scope, scope_id=scope_id)
        return 204, None

    label = f"{scope}:{scope_id}" if scope_id else scope
    return await idempotent(request, c, ws, produce, audit="budget.write", ident=label)

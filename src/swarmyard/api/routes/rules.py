"""/authz/rules: a workspace's own Cedar `forbid` rules on top of the role matrix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import Field

from ...authz import validate_workspace_rules
from ...domain import Principal
from ...services.audit import record_audit
from ..context import ContainerDep, acting
from ..responses import json_response
from ..schemas import _Body

router = APIRouter(tags=["authorization"])


class RulesBody(_Body):
    rules: str = Field(default="", max_length=64_000)


@router.get("/authz/rules")
async def get_rules(c: ContainerDep, p: Annotated[Principal, acting("policy.read")]) -> Response:
    return json_response({"rules": await c.rules.get(p.workspace_id)})


@router.put("/authz/rules")
async def put_rules(
    request: Request,
    body: RulesBody,
    c: ContainerDep,
    p: Annotated[Principal, acting("policy.write")],
) -> Response:
    validate_workspace_rules(body.rules)  # 422 naming the problem; nothing stored
    async with c.store.unit_of_work(p.workspace_id) as uow:
        await uow.rules.set(body.rules, at=c.deps.clock.now(), by=p.actor)
        await record_audit(
            uow,
            c.deps.clock,
            c.deps.ids,
            actor=p.actor,
            action="policy.write",
            resource=f"workspace:{p.workspace_id}",
            ip=request.client.host if request.client else None,
        )
        await uow.commit()
    c.rules.forget(p.workspace_id)
    return json_response({"rules": body.rules})

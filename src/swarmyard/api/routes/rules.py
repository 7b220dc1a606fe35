"""/authz/rules: a workspace's own Cedar `forbid` rules on top of the role matrix."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import Field

from ...domain import Principal
from ..context import ContainerDep, acting, caller_ip
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
    await c.rules.replace(p, body.rules, ip=caller_ip(request))
    return json_response({"rules": body.rules})

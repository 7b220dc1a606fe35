"""POST /tasks/estimate: what a task would likely cost, before creating it
(`services/estimates.py` settles the role as the orchestrator would).

Registered before the /tasks router so no `/tasks/{task_id}` route can
ever claim the path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from ...domain import Principal
from ...services.tasks import NewTask
from ..context import ContainerDep, acting
from ..responses import json_response
from ..schemas import TaskCreate

router = APIRouter(tags=["tasks"])


@router.post("/tasks/estimate")
async def estimate_task(
    body: TaskCreate, c: ContainerDep, p: Annotated[Principal, acting("task.create")]
) -> Response:
    spec = NewTask(**body.model_dump())
    return json_response(await c.estimates.estimate(p.workspace_id, spec))

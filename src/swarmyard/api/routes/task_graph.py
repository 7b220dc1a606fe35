"""/tasks/{id}/graph: a task's execution history as nodes and edges.

Reading it is reading runs (`run.read`), like `/tasks/{id}/runs`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from ...domain import Principal
from ..context import ContainerDep, acting
from ..responses import json_response

router = APIRouter(tags=["tasks"])


@router.get("/tasks/{task_id}/graph")
async def task_graph(
    task_id: str, c: ContainerDep, p: Annotated[Principal, acting("run.read")]
) -> Response:
    graph = await c.task_graphs.graph(p.workspace_id, task_id)
    return json_response(graph.as_dict())

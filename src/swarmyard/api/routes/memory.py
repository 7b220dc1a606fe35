"""/memory: the agents' long-term memory and the workspace's shared context.

Searching is `memory.read` (viewers and above); adding and removing items,
and giving existing items vectors once embeddings are on (`/memory/reindex`),
is `memory.write` (members and above). An item without `agent_id` is
shared: every agent of the workspace finds it with `memory.search`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ...domain import MemoryItem, Principal
from ...services.memory import MAX_REINDEX, MAX_SEARCH
from ..context import ContainerDep, acting
from ..responses import idempotent, json_response

router = APIRouter(tags=["memory"])


class MemoryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Lengths and values are checked by the domain, which names every problem at once.
    text: str
    kind: str = "note"
    tags: list[str] = Field(default_factory=list)
    ttl_days: float | None = None
    agent_id: str | None = Field(default=None, min_length=1, max_length=64)


def memory_view(item: MemoryItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind.value,
        "text": item.text,
        "tags": item.tags,
        "agent_id": item.agent_id,
        "shared": item.agent_id is None,
        "run_id": item.run_id,
        "task_id": item.task_id,
        "source": item.source,
        "created_at": item.created_at.isoformat(),
        "expires_at": item.expires_at.isoformat() if item.expires_at else None,
    }


@router.get("/memory")
async def search_memory(
    *,
    c: ContainerDep,
    p: Annotated[Principal, acting("memory.read")],
    q: Annotated[str, Query(max_length=500)] = "",
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH)] = 20,
) -> Response:
    found = await c.memory.search(p.workspace_id, text=q, agent_id=agent_id, kind=kind, limit=limit)
    return json_response({"items": [memory_view(i) for i in found], "next_cursor": None})


@router.post("/memory", status_code=201)
async def add_memory(
    request: Request,
    body: MemoryBody,
    c: ContainerDep,
    p: Annotated[Principal, acting("memory.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        item = await c.memory.save(
            ws,
            text=body.text,
            kind=body.kind,
            tags=body.tags,
            ttl_days=body.ttl_days,
            agent_id=body.agent_id,
            by=p.actor,
        )
        return 201, memory_view(item)

    return await idempotent(request, c, ws, produce, audit="memory.create")


@router.post("/memory/reindex")
async def reindex_memory(
    request: Request,
    c: ContainerDep,
    p: Annotated[Principal, acting("memory.write")],
    limit: Annotated[int, Query(ge=1, le=MAX_REINDEX)] = 500,
) -> Response:
    """Embed up to `limit` items that have no vector of the configured model
    (409 when embeddings are off)."""
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        done = await c.memory.reindex(ws, limit=limit)
        return 200, {"indexed": done.indexed, "failed": done.failed, "error": done.error}

    return await idempotent(request, c, ws, produce, audit="memory.reindex")


@router.delete("/memory/{memory_id}", status_code=204)
async def delete_memory(
    request: Request,
    memory_id: str,
    c: ContainerDep,
    p: Annotated[Principal, acting("memory.write")],
) -> Response:
    ws = p.workspace_id

    async def produce() -> tuple[int, Any]:
        await c.memory.delete(ws, memory_id)
        return 204, None

    return await idempotent(request, c, ws, produce, audit="memory.delete", ident=memory_id)

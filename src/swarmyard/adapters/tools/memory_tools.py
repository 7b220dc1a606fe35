"""Memory tools: what an agent keeps for later runs, and finds again.

`memory.save` keeps an item in the calling agent's own memory;
`context.share` keeps a decision or piece of knowledge for every agent of
the workspace, for a limited time; `memory.search` finds both (the agent's
own items and the shared ones, never another agent's own). Provenance —
the run, the task and the role that wrote an item — comes from the tool
context, never from the model's arguments.

Saving is a side effect: the agent loop journals its answer, so a run
resumed on another worker does not save the same item twice. Searching and
saving go through the memory index the process wires in (`MemoryAccess`:
words, and embeddings when configured), as the API's do.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from ...domain import Clock, IdSource, MemoryItem, MemoryKind, NotFound, ValidationFailed
from ...domain.memory import MAX_MEMORY_TAGS, MAX_MEMORY_TEXT, MAX_MEMORY_TTL_DAYS, new_memory
from ...ports import MemoryQuery, Store, Tool, ToolContext, ToolError, ToolSpec

__all__ = [
    "ContextShareTool",
    "MemoryAccess",
    "MemorySaveTool",
    "MemorySearchTool",
    "memory_tools",
]

MAX_RESULTS = 20
# What one search answers at most: a few items in full, not a flood that
# crowds the task out of the model's context.
_ITEM_CHARS = 800
_RESULT_CHARS = 6000
SHARED_TTL_DAYS = 30  # shared context goes stale; an explicit ttl_days overrides it

_TAGS = {
    "type": "array",
    "items": {"type": "string"},
    "maxItems": MAX_MEMORY_TAGS,
    "description": "A few words to find it by",
}
_TTL = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": MAX_MEMORY_TTL_DAYS,
    "description": "Forget it after this many days",
}


class MemoryAccess(Protocol):
    """What the tools need of memory (`services.memory_index.MemoryIndex`)."""

    async def search(self, workspace_id: str, query: MemoryQuery) -> list[MemoryItem]: ...

    async def keep(self, workspace_id: str, item: MemoryItem) -> None:
        """Store a new item, sweeping expired ones; raises Conflict for a taken id."""
        ...


async def _agent_of(store: Store, ctx: ToolContext) -> str:
    async with store.unit_of_work(ctx.workspace_id) as uow:
        try:
            return (await uow.runs.get(ctx.run_id)).agent_id
        except NotFound:
            raise ToolError(f"run {ctx.run_id!r} not found") from None


def _view(item: MemoryItem) -> dict[str, Any]:
    text = item.text if len(item.text) <= _ITEM_CHARS else item.text[:_ITEM_CHARS] + "…"
    return {
        "id": item.id,
        "kind": item.kind.value,
        "text": text,
        "tags": item.tags,
        "shared": item.agent_id is None,
        "task_id": item.task_id,
        "source": item.source,
        "created_at": item.created_at.isoformat(),
    }


def search_result(items: list[MemoryItem]) -> str:
    """The items as JSON for the model, best first, cut to a size a context
    can take (saying how many were left out)."""
    shown: list[dict[str, Any]] = []
    size = 0
    for item in items:
        view = _view(item)
        size += len(json.dumps(view))
        if shown and size > _RESULT_CHARS:
            break
        shown.append(view)
    body: dict[str, Any] = {"items": shown}
    if len(shown) < len(items):
        body["omitted"] = len(items) - len(shown)
    return json.dumps(body)


class MemorySearchTool:
    spec = ToolSpec(
        name="memory.search",
        description=(
            "Search your long-term memory and the context shared in this workspace "
            "(decisions, facts, knowledge, notes) by words. Returns JSON {items: [...]}, "
            "best matches first."
        ),
        effects=frozenset({"reads_private"}),
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "Words to look for"},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
    )

    def __init__(self, store: Store, memory: MemoryAccess) -> None:
        self._store = store
        self._memory = memory

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        query = args.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolError("memory.search needs a query (words to look for)")
        limit = args.get("limit", 5)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
            raise ToolError(f"limit must be a whole number from 1 to {MAX_RESULTS}")
        agent_id = await _agent_of(self._store, ctx)
        found = await self._memory.search(
            ctx.workspace_id, MemoryQuery(text=query, agent_id=agent_id, limit=limit)
        )
        return search_result(found)


class _Keeper:
    """What saving and sharing have in common: validate, store, answer."""

    def __init__(self, store: Store, memory: MemoryAccess, clock: Clock, ids: IdSource) -> None:
        self._store = store
        self._memory = memory
        self._clock = clock
        self._ids = ids

    async def _keep(
        self,
        args: dict[str, Any],
        ctx: ToolContext,
        *,
        agent_id: str | None,
        kind: str,
        ttl_days: Any,
        tool: str,
    ) -> str:
        text = args.get("text")
        tags = args.get("tags", [])
        if not isinstance(text, str):
            raise ToolError(f"{tool} needs text (at most {MAX_MEMORY_TEXT} characters)")
        if not isinstance(tags, list):
            raise ToolError("tags must be a list of strings")
        now = self._clock.now()
        try:
            item = new_memory(
                item_id=self._ids.new("mem"),
                workspace_id=ctx.workspace_id,
                now=now,
                text=text,
                kind=kind,
                tags=tags,
                ttl_days=ttl_days,
                agent_id=agent_id,
                run_id=ctx.run_id,
                task_id=ctx.task_id,
                source=f"role:{ctx.role}",
            )
        except ValidationFailed as exc:
            raise ToolError(exc.message) from None
        await self._memory.keep(ctx.workspace_id, item)
        return json.dumps(
            {
                "saved": item.id,
                "kind": item.kind.value,
                "shared": agent_id is None,
                "expires_at": item.expires_at.isoformat() if item.expires_at else None,
            }
        )


class MemorySaveTool(_Keeper):
    spec = ToolSpec(
        name="memory.save",
        description=(
            "Keep something in your long-term memory for later tasks: a fact, a decision, "
            "knowledge or a note. Returns JSON {saved: id}."
        ),
        effects=frozenset({"side_effect"}),
        parameters={
            "type": "object",
            "properties": {
                "text": {"type": "string", "maxLength": MAX_MEMORY_TEXT},
                "kind": {"type": "string", "enum": [k.value for k in MemoryKind]},
                "tags": _TAGS,
                "ttl_days": _TTL,
            },
            "required": ["text"],
            "additionalProperties": False,
        },
    )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        agent_id = await _agent_of(self._store, ctx)
        kind = str(args.get("kind") or MemoryKind.NOTE.value)
        ttl = args.get("ttl_days")
        return await self._keep(
            args, ctx, agent_id=agent_id, kind=kind, ttl_days=ttl, tool="memory.save"
        )


_SHARED_KINDS = (MemoryKind.DECISION.value, MemoryKind.KNOWLEDGE.value)


class ContextShareTool(_Keeper):
    spec = ToolSpec(
        name="context.share",
        description=(
            "Share a decision or a piece of knowledge with every agent of this workspace "
            f"(kept {SHARED_TTL_DAYS} days unless ttl_days says otherwise). "
            "Returns JSON {saved: id}."
        ),
        effects=frozenset({"side_effect"}),
        parameters={
            "type": "object",
            "properties": {
                "text": {"type": "string", "maxLength": MAX_MEMORY_TEXT},
                "kind": {"type": "string", "enum": list(_SHARED_KINDS)},
                "tags": _TAGS,
                "ttl_days": _TTL,
            },
            "required": ["text"],
            "additionalProperties": False,
        },
    )

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        kind = str(args.get("kind") or MemoryKind.KNOWLEDGE.value)
        if kind not in _SHARED_KINDS:
            raise ToolError(f"context.share takes kind {' or '.join(_SHARED_KINDS)}, not {kind!r}")
        ttl = args.get("ttl_days", SHARED_TTL_DAYS)
        return await self._keep(
            args, ctx, agent_id=None, kind=kind, ttl_days=ttl, tool="context.share"
        )


def memory_tools(store: Store, memory: MemoryAccess, clock: Clock, ids: IdSource) -> list[Tool]:
    return [
        MemorySearchTool(store, memory),
        MemorySaveTool(store, memory, clock, ids),
        ContextShareTool(store, memory, clock, ids),
    ]

"""Read-only board tools: let an agent look at other tasks of its workspace.

They have no side effects, so a resumed run may call them again freely.
"""

from __future__ import annotations

import json
from typing import Any

from ...domain import Clock, IdSource, NotFound, TaskStatus
from ...ports import Page, Store, TaskFilter, Tool, ToolContext, ToolError, ToolSpec
from .memory_tools import MemoryAccess, memory_tools

__all__ = ["ListTasksTool", "ReadTaskTool", "builtin_tools"]

_RESULT_CHARS = 4000


class ReadTaskTool:
    spec = ToolSpec(
        name="read_task",
        description="Read a task of this workspace: title, type, status, description and result.",
        effects=frozenset({"reads_private"}),
        parameters={
            "type": "object",
            "properties": {"task_id": {"type": "string", "description": "The task's id"}},
            "required": ["task_id"],
            "additionalProperties": False,
        },
    )

    def __init__(self, store: Store) -> None:
        self._store = store

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        task_id = str(args.get("task_id") or "")
        if not task_id:
            raise ToolError("read_task needs task_id")
        async with self._store.unit_of_work(ctx.workspace_id) as uow:
            try:
                t = await uow.tasks.get(task_id)
            except NotFound as exc:
                raise ToolError(exc.message) from None
        return json.dumps(
            {
                "id": t.id,
                "title": t.title,
                "type": t.type,
                "status": t.status.value,
                "description": t.description,
                "result": (t.result or "")[:_RESULT_CHARS],
                "parent_id": t.parent_id,
            }
        )


class ListTasksTool:
    spec = ToolSpec(
        name="list_tasks",
        description="Search the tasks of this workspace by status and/or text.",
        parameters={
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": [s.value for s in TaskStatus]},
                "text": {"type": "string", "description": "Words in the title or description"},
            },
            "additionalProperties": False,
        },
    )

    def __init__(self, store: Store) -> None:
        self._store = store

    async def call(self, args: dict[str, Any], ctx: ToolContext) -> str:
        status = args.get("status")
        if status is not None and status not in TaskStatus.__members__.values():
            raise ToolError(f"unknown status {status!r}")
        flt = TaskFilter(
            statuses=(TaskStatus(status),) if status else (),
            text=str(args["text"]) if args.get("text") else None,
        )
        async with self._store.unit_of_work(ctx.workspace_id) as uow:
            tasks = await uow.tasks.list(flt, Page(limit=25))
        return json.dumps(
            {
                "tasks": [
                    {"id": t.id, "title": t.title, "type": t.type, "status": t.status.value}
                    for t in tasks
                ]
            }
        )


def builtin_tools(
    store: Store, *, memory: MemoryAccess, clock: Clock, ids: IdSource
) -> dict[str, Tool]:
    """The board tools, and the memory tools (memory_tools.py) over `memory`."""
    tools: list[Tool] = [ReadTaskTool(store), ListTasksTool(store)]
    tools += memory_tools(store, memory, clock, ids)
    return {t.spec.name: t for t in tools}

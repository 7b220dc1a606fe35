"""A task's execution history as a graph, for drawing how work was done.

The task leads to its runs (every attempt), each run to the agent that
made it, to what it produced (its output, the memory items it wrote) and
to what was decided in it (approvals people gave or refused, memory items
of kind decision); subtasks hang off their parent task the same way, all
the way down. Clients draw trees and learning curves from it: which agent
tried what, how often, and what came of it.

The graph is bounded (`MAX_TASKS` tasks, `MAX_RUNS` runs a task) so a
runaway delegation cannot make one request read the whole workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain import (
    Agent,
    Approval,
    MemoryItem,
    MemoryKind,
    NotFound,
    Run,
    Task,
)
from ..ports import MemoryQuery, Page, TaskFilter, UnitOfWork
from .deps import Deps

__all__ = ["MAX_RUNS", "MAX_TASKS", "TaskGraph", "TaskGraphService"]

MAX_TASKS = 200
MAX_RUNS = 50
_MAX_ITEMS = 1000
_LABEL_CHARS = 80


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _LABEL_CHARS else line[: _LABEL_CHARS - 1] + "…"


def _at(run: Run) -> str:
    moment = run.finished_at or run.started_at or run.created_at
    return moment.isoformat()


@dataclass(slots=True)
class TaskGraph:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, str]] = field(default_factory=list)
    truncated: bool = False
    _seen: set[str] = field(default_factory=set)

    def node(self, node_id: str, kind: str, label: str, **extra: Any) -> None:
        if node_id not in self._seen:
            self._seen.add(node_id)
            self.nodes.append({"id": node_id, "kind": kind, "label": label, **extra})

    def edge(self, source: str, target: str, kind: str) -> None:
        self.edges.append({"from": source, "to": target, "kind": kind})

    def as_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "edges": self.edges, "truncated": self.truncated}


def _task_node(graph: TaskGraph, task: Task) -> None:
    graph.node(task.id, "task", task.title, status=task.status.value, type=task.type)


class TaskGraphService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps

    async def graph(self, workspace_id: str, task_id: str) -> TaskGraph:
        """Raises NotFound for an unknown (or another workspace's) task."""
        graph = TaskGraph()
        async with self._d.store.unit_of_work(workspace_id) as uow:
            tasks = await self._tree(uow, await uow.tasks.get(task_id), graph)
            runs: list[Run] = []
            for task in tasks:
                found = await uow.runs.list(task_id=task.id, page=Page(limit=MAX_RUNS + 1))
                graph.truncated |= len(found) > MAX_RUNS
                runs += sorted(found[:MAX_RUNS], key=lambda r: (r.created_at, r.id))
            agents = await self._agents(uow, {r.agent_id for r in runs})
            for run in runs:
                self._run(graph, run, agents.get(run.agent_id))
                for approval in await uow.approvals.list(run_id=run.id):
                    self._approval(graph, approval)
            if runs:
                query = MemoryQuery(run_ids=[r.id for r in runs], limit=_MAX_ITEMS)
                for item in reversed(await uow.memory.search(query, now=self._d.clock.now())):
                    self._memory(graph, item)
        return graph

    async def _tree(self, uow: UnitOfWork, root: Task, graph: TaskGraph) -> list[Task]:
        """The task and its subtasks, parents before children, each a node."""
        tasks, queue = [], [root]
        _task_node(graph, root)
        while queue:
            task = queue.pop(0)
            tasks.append(task)
            children = await uow.tasks.list(TaskFilter(parent_id=task.id), Page(limit=MAX_TASKS))
            for child in sorted(children, key=lambda t: (t.created_at, t.id)):
                if len(tasks) + len(queue) >= MAX_TASKS:
                    graph.truncated = True
                    break
                graph.node(
                    child.id, "task", child.title, status=child.status.value, type=child.type
                )
                graph.edge(task.id, child.id, "subtask")
                queue.append(child)
        return tasks

    @staticmethod
    async def _agents(uow: UnitOfWork, agent_ids: set[str]) -> dict[str, Agent]:
        agents = {}
        for agent_id in sorted(agent_ids):
            try:
                agents[agent_id] = await uow.agents.get(agent_id)
            except NotFound:  # uninstalled since: the run still names its role
                continue
        return agents

    @staticmethod
    def _run(graph: TaskGraph, run: Run, agent: Agent | None) -> None:
        graph.node(
            run.id,
            "run",
            f"attempt {run.attempt} · {run.status.value}",
            status=run.status.value,
            role=run.role,
            cost_usd=run.cost_microusd / 1_000_000,
            steps=run.steps,
            at=_at(run),
        )
        graph.edge(run.task_id, run.id, "run")
        graph.node(run.agent_id, "agent", agent.name if agent else run.role, role=run.role)
        graph.edge(run.id, run.agent_id, "by")
        if run.output:
            output_id = f"output:{run.id}"
            graph.node(output_id, "artifact", _short(run.output), source="run_output")
            graph.edge(run.id, output_id, "produced")

    @staticmethod
    def _approval(graph: TaskGraph, approval: Approval) -> None:
        if not approval.status.is_decided:
            return
        by = f" by {approval.decided_by}" if approval.decided_by else ""
        graph.node(
            approval.id,
            "decision",
            f"{approval.tool} {approval.status.value}{by}",
            source="approval",
            status=approval.status.value,
            at=approval.decided_at.isoformat() if approval.decided_at else None,
        )
        graph.edge(approval.run_id, approval.id, "decided")

    @staticmethod
    def _memory(graph: TaskGraph, item: MemoryItem) -> None:
        decision = item.kind is MemoryKind.DECISION
        graph.node(
            item.id,
            "decision" if decision else "artifact",
            _short(item.text),
            source="memory",
            memory_kind=item.kind.value,
            shared=item.agent_id is None,
            at=item.created_at.isoformat(),
        )
        if item.run_id:
            graph.edge(item.run_id, item.id, "decided" if decision else "produced")

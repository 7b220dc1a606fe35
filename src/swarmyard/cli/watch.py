"""Watching a task tree work, live: what ``task create --wait`` shows.

The server's task stream carries every change of the root task and of the
subtasks agents delegate, plus the runs' events. `TreeWatch` folds that
stream into the tree's current state and a log of readable lines. The
stream resends the whole state after a reconnect, so folding is idempotent:
a task is replaced by its newer copy, and a run event already seen (same
run, same sequence number) is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import typer

from .errors import ApiError
from .events import summarize
from .formatting import Column, column, money, status_style
from .refs import names_by_id, segment
from .stream import SseEvent, follow

if TYPE_CHECKING:
    from .client import ApiClient
    from .output import Output

__all__ = ["TreeWatch", "exit_code", "follow_task"]

# Where a watched task stops: a person's move next (review) counts as success.
_SUCCESS = frozenset({"done", "review"})
EXIT_INTERRUPTED = 130

_COLUMNS = [
    column("TASK", "label", max_width=60),
    column("STATUS", "status", style=status_style),
    column("ROLE", "role"),
    column("ASSIGNEE", "assignee"),
    Column("COST", lambda row: money(row.get("cost_usd"))),
]


def exit_code(task: dict[str, Any]) -> int:
    return 0 if task.get("status") in _SUCCESS else 1


class TreeWatch:
    def __init__(self, client: ApiClient, root: dict[str, Any]) -> None:
        self.root_id = str(root["id"])
        self.tasks: dict[str, dict[str, Any]] = {self.root_id: root}
        self.log: list[str] = []
        self._client = client
        self._seen: set[tuple[str, int]] = set()
        self._run_roles: dict[str, str] = {}
        self._agents: dict[str, str] = {}
        self._asked: set[str] = set()

    @property
    def root(self) -> dict[str, Any]:
        return self.tasks[self.root_id]

    def apply(self, event: SseEvent) -> list[str]:
        """Fold one stream event in; return the log lines it adds."""
        if event.event in ("task", "end"):
            lines = self._task(event.json())
        elif event.event == "run_event":
            lines = self._run_event(event.json())
        else:
            lines = []
        self.log.extend(lines)
        return lines

    def rows(self) -> list[dict[str, Any]]:
        """The tree, depth first, each title indented under its parent."""
        children: dict[str | None, list[dict[str, Any]]] = {}
        for task in self.tasks.values():
            parent = task.get("parent_id") if task["id"] != self.root_id else None
            children.setdefault(parent, []).append(task)
        rows: list[dict[str, Any]] = []
        stack = [(self.root, 0)]
        while stack:
            task, depth = stack.pop()
            rows.append(self._row(task, depth))
            kids = children.get(str(task["id"]), [])
            stack.extend((kid, depth + 1) for kid in reversed(kids))
        return rows

    def _row(self, task: dict[str, Any], depth: int) -> dict[str, Any]:
        return {
            "label": ("  " * (depth - 1) + "└ " if depth else "") + str(task.get("title")),
            "status": task.get("status"),
            "role": task.get("required_role"),
            "assignee": self._agent_name(task.get("assignee_agent_id")),
            "cost_usd": task.get("cost_usd"),
        }

    def _task(self, task: dict[str, Any]) -> list[str]:
        previous = self.tasks.get(str(task["id"]))
        self.tasks[str(task["id"])] = task
        title, status = task.get("title"), task.get("status")
        if previous is None:
            role = task.get("required_role") or "any role"
            return [f"[task] new subtask {title!r} for {role}: {status}"]
        lines = []
        if previous.get("status") != status:
            lines.append(f"[task] {title!r}: {previous.get('status')} -> {status}")
        waiting = task.get("waiting_reason")
        if waiting and waiting != previous.get("waiting_reason"):
            # Why nothing happens (no agent for the role, dependencies...).
            lines.append(f"[task] {title!r} waits: {waiting}")
        return lines

    def _run_event(self, event: dict[str, Any]) -> list[str]:
        key = (str(event.get("run_id")), int(event.get("seq") or 0))
        if key in self._seen:
            return []
        self._seen.add(key)
        payload = event.get("payload")
        if isinstance(payload, dict) and payload.get("role"):  # "started" names the role
            self._run_roles.setdefault(key[0], str(payload["role"]))
        return [f"[{self._role(event)}] {summarize(event)}"]

    def _role(self, event: dict[str, Any]) -> str:
        """The role of the run, from its start event, its task, or else the run."""
        run_id = str(event.get("run_id"))
        if run_id not in self._run_roles:
            task = self.tasks.get(str(event.get("task_id")), {})
            self._run_roles[run_id] = str(task.get("required_role") or self._fetch_role(run_id))
        return self._run_roles[run_id]

    def _fetch_role(self, run_id: str) -> str:
        try:
            run = self._client.get(f"/runs/{segment(run_id)}")
        except ApiError:
            return "agent"
        return str(run.get("role") or "agent")

    def _agent_name(self, agent_id: object) -> str | None:
        if agent_id is None:
            return None
        key = str(agent_id)
        if key not in self._agents and key not in self._asked:
            self._asked.add(key)  # ask once per unknown id, not once per redraw
            self._agents = names_by_id(self._client, "agents")
        return self._agents.get(key, key)


def follow_task(client: ApiClient, out: Output, task: dict[str, Any]) -> int:
    """Show the task tree's progress until the root task ends; the exit code."""
    watch = TreeWatch(client, task)
    events = follow(
        client, f"/tasks/{segment(watch.root_id)}/stream", until=lambda event: event.event == "end"
    )
    try:
        if out.json_mode:
            for event in events:
                watch.apply(event)
            out.json(watch.root)
            return exit_code(watch.root)
        if out.terminal:
            _live(out, watch, events)
        else:
            out.line(
                f"[task] created {task.get('title')!r} ({task.get('id')}): {task.get('status')}"
            )
            for event in events:
                for line in watch.apply(event):
                    out.line(line)
    except KeyboardInterrupt:
        out.note(f"stopped watching; the task goes on (`swarmyard task show {watch.root_id}`)")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    _summary(out, watch.root)
    return exit_code(watch.root)


def _live(out: Output, watch: TreeWatch, events: Iterator[SseEvent]) -> None:
    with out.live(_COLUMNS) as view:
        view.show(watch.rows(), watch.log, title=_title(watch.root))
        for event in events:
            if watch.apply(event) or event.event == "task":
                view.show(watch.rows(), watch.log, title=_title(watch.root))


def _title(root: dict[str, Any]) -> str:
    return f"{root.get('title')} ({root.get('id')}): {root.get('status')}"


def _summary(out: Output, root: dict[str, Any]) -> None:
    status = root.get("status")
    ok = status in _SUCCESS
    out.line(
        f"task {root.get('id')} {status}, cost {money(root.get('cost_usd'))}",
        "bold green" if ok else "bold red",
    )
    detail = root.get("result") if ok else root.get("waiting_reason") or root.get("result")
    if detail:
        out.line(str(detail))

"""``swarmyard task``: put work on the board and follow it.

``task create --wait`` is the way to watch agents work from a shell: it
follows the task tree's event stream (see `watch`) and exits 0 when the
task is done (or awaits review), 1 when it failed or was cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

from . import watch
from .context import session
from .errors import EXIT_USAGE, CliError
from .formatting import Column, column, money, status_style, text, when
from .refs import names_by_id, resolve, segment
from .vocab import ComplexityName, PriorityName, TaskStatusName

if TYPE_CHECKING:
    from .client import ApiClient

__all__ = ["app"]

app = typer.Typer(help="Create, list, inspect and move tasks.", no_args_is_help=True)

TaskId = Annotated[str, typer.Argument(metavar="TASK", help="Task id.")]

# The options of a new task, shared by `create` and `estimate` (an estimate
# is asked for exactly the task one would create).
Title = Annotated[str, typer.Argument(metavar="TITLE", help="What needs doing.")]
TaskType = Annotated[
    str, typer.Option("--type", "-t", help="feature, bugfix, design, review, test, docs, ...")
]
Description = Annotated[str | None, typer.Option("--description", "-d")]
Priority = Annotated[PriorityName | None, typer.Option()]
Complexity = Annotated[ComplexityName | None, typer.Option()]
Role = Annotated[str | None, typer.Option(help="Role that must take it.")]
Capabilities = Annotated[list[str] | None, typer.Option(help="Required capability (repeatable).")]
DependsOn = Annotated[
    list[str] | None, typer.Option(help="Task that must be done first (repeatable).")
]
Project = Annotated[str | None, typer.Option(help="Project id or name.")]
Backlog = Annotated[bool, typer.Option("--backlog", help="Put it in the backlog, not todo.")]
Review = Annotated[bool, typer.Option("--review", help="A person reviews the result.")]
MaxAttempts = Annotated[int | None, typer.Option(min=1, help="Runs before it fails.")]


@app.command("create")
def create(
    ctx: typer.Context,
    *,
    title: Title,
    task_type: TaskType,
    description: Description = None,
    priority: Priority = None,
    complexity: Complexity = None,
    role: Role = None,
    capability: Capabilities = None,
    depends_on: DependsOn = None,
    project: Project = None,
    backlog: Backlog = False,
    review: Review = False,
    max_attempts: MaxAttempts = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the work live until it ends.")
    ] = False,
) -> None:
    """Create a task (and with --wait, watch the agents work on it)."""
    if wait and backlog:
        raise CliError(
            "--wait with --backlog would wait forever: no agent takes backlog tasks",
            exit_code=EXIT_USAGE,
        )
    client, out = session(ctx)
    body = _new_task(
        client,
        title=title,
        task_type=task_type,
        description=description,
        priority=priority,
        complexity=complexity,
        role=role,
        capability=capability,
        depends_on=depends_on,
        project=project,
        backlog=backlog,
        review=review,
        max_attempts=max_attempts,
    )
    task = client.post("/tasks", body)
    if wait:
        raise typer.Exit(watch.follow_task(client, out, task))
    if out.json_mode:
        out.json(task)
        return
    out.line(f"created task {task.get('id')}: {task.get('title')} ({task.get('status')})", "green")


@app.command("estimate")
def estimate(
    ctx: typer.Context,
    *,
    title: Title,
    task_type: TaskType,
    description: Description = None,
    priority: Priority = None,
    complexity: Complexity = None,
    role: Role = None,
    capability: Capabilities = None,
    depends_on: DependsOn = None,
    project: Project = None,
    backlog: Backlog = False,
    review: Review = False,
    max_attempts: MaxAttempts = None,
) -> None:
    """What such a task would likely cost, and on which model (nothing is created)."""
    client, out = session(ctx)
    body = _new_task(
        client,
        title=title,
        task_type=task_type,
        description=description,
        priority=priority,
        complexity=complexity,
        role=role,
        capability=capability,
        depends_on=depends_on,
        project=project,
        backlog=backlog,
        review=review,
        max_attempts=max_attempts,
    )
    found = client.post("/tasks/estimate", body)
    if out.json_mode:
        out.json(found)
        return
    out.fields(_estimate_fields(found), title=f"estimate: {title}")


def _new_task(
    client: ApiClient,
    *,
    title: str,
    task_type: str,
    description: str | None,
    priority: str | None,
    complexity: str | None,
    role: str | None,
    capability: list[str] | None,
    depends_on: list[str] | None,
    project: str | None,
    backlog: bool,
    review: bool,
    max_attempts: int | None,
) -> dict[str, Any]:
    """The body of POST /tasks: only what was given, the server's defaults for the rest."""
    body: dict[str, Any] = {
        "title": title,
        "type": task_type,
        "description": description,
        "priority": priority,
        "complexity": complexity,
        "required_role": role,
        "required_capabilities": capability or None,
        "depends_on": depends_on or None,
        "project_id": _project_id(client, project),
        "status": "backlog" if backlog else None,
        "review_required": review or None,
        "max_attempts": max_attempts,
    }
    return {k: v for k, v in body.items() if v is not None}


def _estimate_fields(found: dict[str, Any]) -> list[tuple[str, object]]:
    low, high = money(found.get("low_usd")), money(found.get("high_usd"))
    return [
        ("role", found.get("role")),
        ("agent", found.get("agent_id") or "none installed yet: the role's manifest"),
        ("model", found.get("model")),
        ("tier", found.get("tier")),
        ("fallbacks", found.get("chain", [])[1:] if isinstance(found.get("chain"), list) else None),
        ("expected", money(found.get("expected_usd"))),
        ("range", f"{low} to {high}"),
        ("max per call", money(found.get("max_per_call_usd"))),
        ("budget", found.get("budget")),
        ("why", found.get("reason")),
        ("based on", found.get("basis")),
    ]


def _statuses(values: list[str] | None) -> list[str] | None:
    known = get_args(TaskStatusName)
    for value in values or []:
        if value not in known:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(known)}")
    return values


@app.command("list")
def list_tasks(
    ctx: typer.Context,
    *,
    status: Annotated[
        list[str] | None,
        typer.Option(callback=_statuses, help="Only this status (repeatable)."),
    ] = None,
    role: Annotated[str | None, typer.Option()] = None,
    task_type: Annotated[str | None, typer.Option("--type")] = None,
    project: Annotated[str | None, typer.Option(help="Project id or name.")] = None,
    parent: Annotated[str | None, typer.Option(help="Only subtasks of this task.")] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Text search.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Page size (the server caps it).")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Where the previous page ended.")] = None,
) -> None:
    """List tasks, newest first."""
    client, out = session(ctx)
    params = {
        "status": ",".join(status) if status else None,
        "role": role,
        "type": task_type,
        "project": _project_id(client, project),
        "parent": parent,
        "q": query,
        "limit": limit,
        "cursor": cursor,
    }
    page = client.get("/tasks", params)
    if out.json_mode:
        out.json(page)
        return
    items = page.get("items") or []
    out.records(_columns(client, items), items, empty="no tasks")
    if page.get("next_cursor"):
        out.note(f"more tasks: add --cursor {page['next_cursor']}")


@app.command("show")
def show(ctx: typer.Context, task_id: TaskId) -> None:
    """Show a task with its subtasks and runs."""
    client, out = session(ctx)
    task = client.get(f"/tasks/{segment(task_id)}")
    subtasks = client.list_all("/tasks", {"parent": task_id})
    runs = client.list_all(f"/tasks/{segment(task_id)}/runs")
    if out.json_mode:
        out.json({"task": task, "subtasks": subtasks, "runs": runs})
        return
    out.fields(
        _task_fields(client, task), title=str(task.get("title")), styles={"status": status_style}
    )
    out.records(_columns(client, subtasks), subtasks, title="subtasks", empty="none")
    out.records(_RUN_COLUMNS, runs, title="runs", empty="none")


@app.command("move")
def move(
    ctx: typer.Context,
    *,
    task_id: TaskId,
    status: Annotated[
        TaskStatusName, typer.Argument(metavar="STATUS", help="The column to move it to.")
    ],
) -> None:
    """Move a task to another column of the board."""
    client, out = session(ctx)
    task = client.patch(f"/tasks/{segment(task_id)}", {"status": status})
    if out.json_mode:
        out.json(task)
        return
    out.line(f"moved {task.get('title')} to {task.get('status')}", "green")


@app.command("cancel")
def cancel(ctx: typer.Context, task_id: TaskId) -> None:
    """Cancel a task (its running work is stopped)."""
    client, out = session(ctx)
    task = client.delete(f"/tasks/{segment(task_id)}")
    if out.json_mode:
        out.json(task)
        return
    out.line(f"cancelled {task.get('title')} ({task.get('status')})", "green")


def _project_id(client: ApiClient, project: str | None) -> str | None:
    if project is None:
        return None
    return str(resolve(client, "projects", project, noun="project")["id"])


def _columns(client: ApiClient, tasks: Sequence[dict[str, Any]]) -> list[Column]:
    agents = names_by_id(client, "agents") if any(t.get("assignee_agent_id") for t in tasks) else {}
    return [
        column("ID", "id"),
        column("STATUS", "status", style=status_style),
        column("PRIORITY", "priority"),
        column("TYPE", "type"),
        column("ROLE", "required_role"),
        Column("ASSIGNEE", lambda t: _agent(agents, t.get("assignee_agent_id"))),
        column("TITLE", "title", max_width=50),
        Column("COST", lambda t: money(t.get("cost_usd"))),
    ]


def _agent(names: dict[str, str], agent_id: object) -> str | None:
    return None if agent_id is None else names.get(str(agent_id), str(agent_id))


def _task_fields(client: ApiClient, task: dict[str, Any]) -> list[tuple[str, object]]:
    assignee = task.get("assignee_agent_id")
    agents = names_by_id(client, "agents") if assignee else {}
    return [
        ("id", task.get("id")),
        ("status", task.get("status")),
        ("type", task.get("type")),
        ("priority", task.get("priority")),
        ("complexity", task.get("complexity")),
        ("role", task.get("required_role")),
        ("capabilities", task.get("required_capabilities")),
        ("depends on", task.get("depends_on")),
        ("parent", task.get("parent_id")),
        ("project", task.get("project_id")),
        ("assignee", _agent(agents, assignee)),
        ("attempts", f"{text(task.get('attempts'))} of {text(task.get('max_attempts'))}"),
        ("review", task.get("review_required")),
        ("cost", money(task.get("cost_usd"))),
        ("created", when(task.get("created_at"))),
        ("updated", when(task.get("updated_at"))),
        ("finished", when(task.get("finished_at"))),
        ("waiting", task.get("waiting_reason")),
        ("description", task.get("description")),
        ("result", task.get("result")),
    ]


_RUN_COLUMNS = [
    column("RUN", "id"),
    column("STATUS", "status", style=status_style),
    column("ROLE", "role"),
    column("AGENT", "agent_id"),
    column("ATTEMPT", "attempt"),
    column("STEPS", "steps"),
    Column("TOKENS", lambda r: f"{text(r.get('tokens_in'))}/{text(r.get('tokens_out'))}"),
    Column("COST", lambda r: money(r.get("cost_usd"))),
    Column("STARTED", lambda r: when(r.get("started_at"))),
    Column("FINISHED", lambda r: when(r.get("finished_at"))),
]

"""``swarmyard schedule``: tasks created on a cron schedule.

A schedule holds a task template; at each tick the server creates that task.
``--missed`` says what happens to ticks that passed while the server was
down: ``skip`` them, or run ``once`` to catch up.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .context import session
from .formatting import Column, Item, column, when
from .refs import resolve, segment
from .vocab import ComplexityName, MissedPolicy, PriorityName

__all__ = ["app"]

app = typer.Typer(help="Create tasks on a cron schedule.", no_args_is_help=True)


def _template(schedule: Item) -> str:
    task = schedule.get("task") or {}
    return f"{task.get('title')} [{task.get('type')}]"


_COLUMNS = [
    column("NAME", "name"),
    column("ID", "id"),
    column("CRON", "cron"),
    column("TIMEZONE", "timezone"),
    Column("TASK", _template, max_width=50),
    column("MISSED", "missed"),
    column("ENABLED", "enabled"),
    Column("NEXT RUN", lambda s: when(s.get("next_run_at"))),
    Column("LAST RUN", lambda s: when(s.get("last_run_at"))),
]


@app.command("list")
def list_schedules(ctx: typer.Context) -> None:
    """List the schedules."""
    client, out = session(ctx)
    items = client.list_all("/schedules")
    if out.json_mode:
        out.json({"items": items, "next_cursor": None})
        return
    out.records(_COLUMNS, items, empty="no schedules")


@app.command("create")
def create(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Schedule name.")],
    cron: Annotated[str, typer.Option(help='Cron expression, e.g. "0 9 * * MON-FRI".')],
    title: Annotated[str, typer.Option(help="Title of the tasks it creates.")],
    task_type: Annotated[str, typer.Option("--type", help="Type of the tasks it creates.")],
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone of the cron (default UTC).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="Description of the tasks.")] = None,
    role: Annotated[str | None, typer.Option(help="Role that must take the tasks.")] = None,
    priority: Annotated[PriorityName | None, typer.Option()] = None,
    complexity: Annotated[ComplexityName | None, typer.Option()] = None,
    missed: Annotated[MissedPolicy | None, typer.Option(help="Ticks missed while down.")] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
) -> None:
    """Create a schedule."""
    client, out = session(ctx)
    task = {
        "title": title,
        "type": task_type,
        "description": description,
        "required_role": role,
        "priority": priority,
        "complexity": complexity,
    }
    body = {
        "name": name,
        "cron": cron,
        "timezone": timezone,
        "task": {k: v for k, v in task.items() if v is not None},
        "missed": missed,
        "enabled": False if disabled else None,
    }
    schedule = client.post("/schedules", {k: v for k, v in body.items() if v is not None})
    if out.json_mode:
        out.json(schedule)
        return
    out.line(
        f"created schedule {schedule.get('name')} ({schedule.get('id')}), "
        f"next run {when(schedule.get('next_run_at'))}",
        "green",
    )


def _switch(ctx: typer.Context, ref: str, *, enabled: bool) -> None:
    client, out = session(ctx)
    found = resolve(client, "schedules", ref, noun="schedule")
    changed = client.patch(f"/schedules/{segment(str(found['id']))}", {"enabled": enabled})
    if out.json_mode:
        out.json(changed)
        return
    if enabled:
        said = (
            f"resumed schedule {changed.get('name')}, next run {when(changed.get('next_run_at'))}"
        )
    else:
        said = f"paused schedule {changed.get('name')}: it creates no tasks until resumed"
    out.line(said, "green")


@app.command("pause")
def pause(
    ctx: typer.Context,
    *,
    schedule: Annotated[str, typer.Argument(metavar="SCHEDULE", help="Schedule id or name.")],
) -> None:
    """Pause a schedule: no ticks until it is resumed."""
    _switch(ctx, schedule, enabled=False)


@app.command("resume")
def resume(
    ctx: typer.Context,
    *,
    schedule: Annotated[str, typer.Argument(metavar="SCHEDULE", help="Schedule id or name.")],
) -> None:
    """Resume a paused schedule from its next tick (ticks missed while paused are skipped
    or caught up once, as its --missed says)."""
    _switch(ctx, schedule, enabled=True)


@app.command("delete")
def delete(
    ctx: typer.Context,
    *,
    schedule: Annotated[str, typer.Argument(metavar="SCHEDULE", help="Schedule id or name.")],
) -> None:
    """Delete a schedule (tasks it already created stay)."""
    client, out = session(ctx)
    found = resolve(client, "schedules", schedule, noun="schedule")
    client.delete(f"/schedules/{segment(str(found['id']))}")
    if out.json_mode:
        out.json({"id": found.get("id"), "deleted": True})
        return
    out.line(f"deleted schedule {found.get('name')} ({found.get('id')})", "green")

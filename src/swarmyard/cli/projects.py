"""``swarmyard project``: the groups tasks belong to.

A project may name a working directory (a git repository) where the agents'
artifacts land; tasks and the board can be narrowed to one project.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .context import session
from .formatting import Column, column, when

__all__ = ["app"]

app = typer.Typer(help="List and create projects.", no_args_is_help=True)

_COLUMNS = [
    column("NAME", "name"),
    column("ID", "id"),
    column("WORKDIR", "workdir"),
    column("DESCRIPTION", "description", max_width=60),
    Column("CREATED", lambda p: when(p.get("created_at"))),
]


@app.command("list")
def list_projects(ctx: typer.Context) -> None:
    """List the projects of the workspace."""
    client, out = session(ctx)
    items = client.list_all("/projects")
    if out.json_mode:
        out.json({"items": items, "next_cursor": None})
        return
    out.records(_COLUMNS, items, empty="no projects yet")


@app.command("create")
def create(
    ctx: typer.Context,
    *,
    name: Annotated[str, typer.Argument(metavar="NAME", help="Project name.")],
    description: Annotated[str | None, typer.Option(help="What the project is about.")] = None,
    workdir: Annotated[
        str | None, typer.Option(help="Directory (a git repository) for the agents' artifacts.")
    ] = None,
) -> None:
    """Create a project."""
    client, out = session(ctx)
    body = {"name": name, "description": description, "workdir": workdir}
    project = client.post("/projects", {k: v for k, v in body.items() if v is not None})
    if out.json_mode:
        out.json(project)
        return
    out.line(f"created project {project.get('name')} ({project.get('id')})", "green")

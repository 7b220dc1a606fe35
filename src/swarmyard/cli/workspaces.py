"""``swarmyard workspace``: the workspaces you belong to, and new ones.

Everything else (agents, tasks, members, keys) lives inside one workspace;
commands act in the one named by ``--workspace``. Creating a workspace
makes you its owner; it is then used with ``--workspace ID``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .context import session
from .formatting import Column, column, when

__all__ = ["app"]

app = typer.Typer(help="List and create workspaces.", no_args_is_help=True)


_COLUMNS = [
    column("ID", "id"),
    column("NAME", "name"),
    column("ROLE", "role"),
    Column("CREATED", lambda w: when(w.get("created_at"))),
]


@app.command("list")
def list_workspaces(ctx: typer.Context) -> None:
    """List the workspaces you belong to, with your role in each."""
    client, out = session(ctx)
    items = client.list_all("/workspaces")
    if out.json_mode:
        out.json({"items": items, "next_cursor": None})
        return
    out.records(_COLUMNS, items, empty="no workspaces")


@app.command("create")
def create(
    ctx: typer.Context,
    *,
    ident: Annotated[
        str, typer.Argument(metavar="ID", help="Short id, e.g. acme (used with --workspace).")
    ],
    name: Annotated[str | None, typer.Option(help="Its display name (default: the id).")] = None,
) -> None:
    """Create a workspace; you become its owner."""
    client, out = session(ctx)
    body: dict[str, Any] = {"id": ident, "name": name or ident}
    workspace = client.post("/workspaces", body)
    if out.json_mode:
        out.json(workspace)
        return
    out.line(
        f"created workspace {workspace.get('id')} ({workspace.get('name')}); "
        f"act in it with --workspace {workspace.get('id')}",
        "green",
    )

"""``swarmyard catalog``: the manifests agents are installed from.

``catalog add`` reads a manifest written by hand (TOML, like the built-in
ones, or JSON) and sends it as JSON; the server validates it and answers
every problem at once, which `errors` prints one per line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .context import session
from .documents import document_file, read_document
from .formatting import column, text
from .refs import segment

__all__ = ["app"]

app = typer.Typer(help="Browse and extend the agent catalogue.", no_args_is_help=True)

_COLUMNS = [
    column("ID", "id"),
    column("VERSION", "version"),
    column("ROLE", "role"),
    column("NAME", "name"),
    column("BUILTIN", "builtin"),
    column("DESCRIPTION", "description", max_width=60),
]


@app.command("list")
def list_manifests(ctx: typer.Context) -> None:
    """List the manifests of the catalogue."""
    client, out = session(ctx)
    items = client.list_all("/catalog")
    if out.json_mode:
        out.json({"items": items, "next_cursor": None})
        return
    out.records(_COLUMNS, items, empty="the catalogue is empty")


@app.command("show")
def show(
    ctx: typer.Context,
    *,
    manifest_id: Annotated[str, typer.Argument(metavar="ID", help="Manifest id.")],
    version: Annotated[str | None, typer.Option(help="A version other than the latest.")] = None,
) -> None:
    """Show one manifest: capabilities, dependencies, tools and prompt."""
    client, out = session(ctx)
    manifest = client.get(f"/catalog/{segment(manifest_id)}", {"version": version})
    if out.json_mode:
        out.json(manifest)
        return
    model = manifest.get("model") or {}
    out.fields(
        [
            ("id", manifest.get("id")),
            ("name", manifest.get("name")),
            ("version", manifest.get("version")),
            ("role", manifest.get("role")),
            ("builtin", manifest.get("builtin")),
            ("description", manifest.get("description")),
            ("model", f"{text(model.get('tier'))} (prefers {text(model.get('preferred'))})"),
            ("skills", manifest.get("skills")),
            ("allowed tools", manifest.get("allowed_tools")),
            ("max tasks", manifest.get("max_concurrent_tasks")),
            ("max steps", manifest.get("max_steps")),
        ],
        title=f"{manifest.get('id')} {manifest.get('version')}",
    )
    out.records(
        [
            column("CAPABILITY", "id"),
            column("COMPLEXITY", "complexity"),
            column("TASK TYPES", "task_types"),
            column("DESCRIPTION", "description", max_width=60),
        ],
        manifest.get("capabilities") or [],
        title="capabilities",
        empty="none",
    )
    out.records(
        [
            column("ROLE", "role"),
            column("AGENT", "agent"),
            column("MIN VERSION", "min_version"),
            column("OPTIONAL", "optional"),
        ],
        manifest.get("dependencies") or [],
        title="dependencies",
        empty="none",
    )
    out.fields([("system prompt", manifest.get("system_prompt"))])


@app.command("add")
def add(
    ctx: typer.Context,
    *,
    file: Annotated[Path, document_file()],
) -> None:
    """Add a custom manifest to the catalogue (validated by the server)."""
    client, out = session(ctx)
    manifest = client.post("/catalog", read_document(file))
    if out.json_mode:
        out.json(manifest)
        return
    out.line(f"added {manifest.get('id')} {manifest.get('version')} to the catalogue", "green")

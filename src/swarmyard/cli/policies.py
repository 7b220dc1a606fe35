"""``swarmyard policy``: what runs may do — tools, sandboxing, limits, feature
gates, approvals — per workspace, role or agent (docs/api.md, "Policies")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .context import session
from .documents import document_file, read_document
from .errors import EXIT_USAGE, CliError
from .formatting import Column, Item, column, text, when

__all__ = ["app"]

app = typer.Typer(help="Policies: what runs may do.", no_args_is_help=True)


def _applies(p: Item) -> str:
    return f"{p.get('scope')} {p.get('scope_id')}" if p.get("scope_id") else "workspace"


def _limits(p: Item) -> str:
    parts = [
        f"{label} {p[key]}"
        for key, label in (
            ("max_steps", "steps"),
            ("max_cost_usd_per_run", "$/run"),
            ("max_delegation_depth", "depth"),
        )
        if p.get(key) is not None
    ]
    off = [f for f, on in (p.get("features") or {}).items() if not on]
    if off:
        parts.append("off: " + ", ".join(sorted(off)))
    return "; ".join(parts) or "-"


_COLUMNS = [
    column("POLICY", "name"),
    Column("APPLIES TO", _applies),
    Column("DENIED", lambda p: text(p.get("denied_tools")) or "-"),
    Column("APPROVAL", lambda p: text(p.get("approval_tools")) or "-"),
    Column("LIMITS", _limits, max_width=50),
    column("UNTRUSTED EGRESS", "untrusted_egress"),
    Column("ON", lambda p: "yes" if p.get("enabled") else "no"),
    Column("UPDATED", lambda p: when(p.get("updated_at"))),
]

PolicyFile = Annotated[
    Path, document_file("The policy as a .toml or .json file (its `name` says which).")
]


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every policy of the workspace."""
    client, out = session(ctx)
    found = client.get("/policies")
    if out.json_mode:
        out.json(found)
        return
    out.records(
        _COLUMNS,
        found.get("items") or [],
        empty="no policies: runs are limited by their roles only",
    )


@app.command("show")
def show(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The policy's name.")]
) -> None:
    """One policy, every setting."""
    client, out = session(ctx)
    found = client.get(f"/policies/{name}")
    if out.json_mode:
        out.json(found)
        return
    out.fields([(key.replace("_", " "), text(value)) for key, value in found.items()])


@app.command("set")
def set_(ctx: typer.Context, file: PolicyFile) -> None:
    """Create or replace the policy a file describes (validated by the server)."""
    client, out = session(ctx)
    body = read_document(file)
    name = str(body.get("name") or "")
    if not name:
        raise CliError(f"{file} names no policy: give it a `name`", exit_code=EXIT_USAGE)
    saved = client.put(f"/policies/{name}", body)
    if out.json_mode:
        out.json(saved)
        return
    out.line(f"policy {saved.get('name')} is set ({_applies(saved)})", "green")


@app.command("delete")
def delete(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The policy's name.")]
) -> None:
    """Remove a policy."""
    client, out = session(ctx)
    client.delete(f"/policies/{name}")
    if out.json_mode:
        out.json({"deleted": name})
        return
    out.line(f"policy {name} is removed", "green")

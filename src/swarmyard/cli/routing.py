"""``swarmyard routing``: the rules that pick a model tier for each call, and
where they come from (the workspace's own, the platform file's or the
shipped defaults)."""

from __future__ import annotations

import typer

from .context import session
from .formatting import Column, Item, column, text

__all__ = ["app"]

app = typer.Typer(help="Model routing rules.", no_args_is_help=True)


def _when(rule: Item) -> str:
    when = rule.get("when") or {}
    parts = [
        f"{label} {text(when.get(key))}"
        for key, label in (
            ("roles", "role"),
            ("task_types", "type"),
            ("complexity", "complexity"),
        )
        if when.get(key)
    ]
    if when.get("min_complexity"):
        parts.append(f"complexity >= {when['min_complexity']}")
    return "; ".join(parts) or "any call"


_COLUMNS = [
    column("RULE", "name"),
    Column("WHEN", _when, max_width=60),
    Column("TIER", lambda r: r.get("tier") or "the role's"),
    column("MODELS FIRST", "models"),
]


@app.command("show")
def show(ctx: typer.Context) -> None:
    """The rules in force, first match wins; no match: the role's own preference."""
    client, out = session(ctx)
    found = client.get("/routing")
    if out.json_mode:
        out.json(found)
        return
    out.line(f"routing rules from: {found.get('source')}")
    out.records(_COLUMNS, found.get("rules") or [], empty="no rules: each role's preference")

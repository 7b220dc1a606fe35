"""``swarmyard usage``: where the money went, from the server's ledger of
model calls, grouped one way and totalled."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .context import session, state_of
from .formatting import Column, column, money
from .refs import resolve
from .vocab import UsageGroupName

__all__ = ["usage"]


def _columns(group_by: str) -> list[Column]:
    return [
        column(group_by.upper().replace("_", " "), "key"),
        column("CALLS", "calls"),
        column("FAILED", "failed_calls"),
        column("TOKENS IN", "tokens_in"),
        column("TOKENS OUT", "tokens_out"),
        column("CACHED", "tokens_cached"),
        Column("COST", lambda r: money(r.get("cost_usd"))),
    ]


def usage(
    ctx: typer.Context,
    *,
    by: Annotated[UsageGroupName, typer.Option("--by", help="How to group the calls.")] = "model",
    since: Annotated[
        str | None, typer.Option(help="From this day (YYYY-MM-DD) or ISO time, UTC.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Up to this day, included (or an ISO time, excluded).")
    ] = None,
    role: Annotated[str | None, typer.Option(help="Only calls made for this role.")] = None,
    task_type: Annotated[str | None, typer.Option("--type", help="Only this task type.")] = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider.")] = None,
    project: Annotated[str | None, typer.Option(help="Only this project (id or name).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most groups shown, costliest first.")] = 100,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the server's JSON (as the global --json).")
    ] = False,
) -> None:
    """Model calls, tokens and cost, grouped and totalled."""
    if json_output:
        state_of(ctx).json_output = True
    client, out = session(ctx)
    params = {
        "group_by": by,
        "since": since,
        "until": until,
        "role": role,
        "task_type": task_type,
        "provider": provider,
        "project": str(resolve(client, "projects", project, noun="project")["id"])
        if project
        else None,
        "limit": limit,
    }
    report: dict[str, Any] = client.get("/usage", params)
    if out.json_mode:
        out.json(report)
        return
    items = list(report.get("items") or [])
    if not items:
        out.line("no model calls in this period", "dim")
        return
    # The totals close the table as its last row, so a pipe keeps them too.
    totals = {"key": "TOTAL", **(report.get("totals") or {})}
    out.records(_columns(str(report.get("group_by") or by)), [*items, totals])

"""``swarmyard approval``: tool calls a policy held back for a person, and
the decision that lets the waiting run go on."""

from __future__ import annotations

from typing import Annotated

import typer

from .context import session
from .formatting import Column, Item, column, text, when
from .vocab import ApprovalStatusName

__all__ = ["app"]

app = typer.Typer(help="Approve or reject held-back tool calls.", no_args_is_help=True)

_COLUMNS = [
    column("APPROVAL", "id"),
    column("STATUS", "status"),
    column("TOOL", "tool"),
    Column("ARGS", lambda a: text(a.get("args")), max_width=40),
    column("RUN", "run_id"),
    column("RULE", "rule", max_width=40),
    Column("DEADLINE", lambda a: when(a.get("deadline"))),
    Column("DECIDED BY", lambda a: a.get("decided_by") or "-"),
]

Comment = Annotated[str, typer.Option("--comment", "-m", help="Why, for the run's log.")]
ApprovalId = Annotated[
    str, typer.Argument(help="The approval's id (see `swarmyard approval list`).")
]


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        ApprovalStatusName | None, typer.Option(help="Only these (default: every one).")
    ] = None,
    run: Annotated[str | None, typer.Option(help="Only the approvals of this run.")] = None,
) -> None:
    """Approval requests, newest first."""
    client, out = session(ctx)
    params = {k: v for k, v in {"status": status, "run_id": run}.items() if v}
    found = client.get("/approvals", params)
    if out.json_mode:
        out.json(found)
        return
    out.records(_COLUMNS, found.get("items") or [], empty="no approval requests")


def _decided(ctx: typer.Context, approval: str, verb: str, comment: str) -> None:
    client, out = session(ctx)
    body = {"comment": comment} if comment else {}
    decided: Item = client.post(f"/approvals/{approval}/{verb}", body)
    if out.json_mode:
        out.json(decided)
        return
    out.line(
        f"{decided.get('status')} {decided.get('tool')} for run {decided.get('run_id')}; "
        "the run goes on",
        "green" if verb == "approve" else "yellow",
    )


@app.command("approve")
def approve(ctx: typer.Context, approval: ApprovalId, comment: Comment = "") -> None:
    """Let the held-back tool call run."""
    _decided(ctx, approval, "approve", comment)


@app.command("reject")
def reject(ctx: typer.Context, approval: ApprovalId, comment: Comment = "") -> None:
    """Refuse it: the run goes on without it, and its model is told why."""
    _decided(ctx, approval, "reject", comment)

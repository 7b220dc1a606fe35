"""``swarmyard budget``: how much the workspace, a role, a project or an agent
may spend on models each month or week.

Amounts are typed in dollars with cents (``--monthly 5.00``) and sent to the
server in whole cents, which is how budgets are kept; a fraction of a cent
is refused here rather than rounded behind the person's back.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .context import session
from .errors import EXIT_USAGE, CliError
from .formatting import Column, Item, column, money, when
from .refs import resolve, segment
from .vocab import OnExceedName

if TYPE_CHECKING:
    from .client import ApiClient
    from .output import Output

__all__ = ["app", "cents"]

app = typer.Typer(
    help="Spending limits on models (amounts in dollars, e.g. 5.00).", no_args_is_help=True
)

WorkspaceWide = Annotated[
    bool, typer.Option("--workspace-wide", help="The budget of the whole workspace.")
]
RoleScope = Annotated[str | None, typer.Option("--role", help="The budget of a role.")]
ProjectScope = Annotated[
    str | None, typer.Option("--project", help="The budget of a project (id or name).")
]
AgentScope = Annotated[
    str | None, typer.Option("--agent", help="The budget of an agent (id or name).")
]


def cents(value: str | None, option: str = "") -> int | None:
    """Dollars as typed (``5``, ``5.00``, ``$1,250.50``) to whole cents; a
    refusal names `option`."""
    if value is None:
        return None
    hint = f"'{option}'" if option else None
    text = value.strip().removeprefix("$").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise typer.BadParameter(
            f"{value!r} is not an amount in dollars, e.g. 5.00", param_hint=hint
        )
    whole = amount * 100
    if whole != whole.to_integral_value():
        raise typer.BadParameter(
            f"{value!r} has a fraction of a cent; budgets are in cents", param_hint=hint
        )
    return int(whole)


def _dollars(value: object) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"${value / 100:,.2f}"


def _for(budget: Item) -> str:
    scope, ident = budget.get("scope"), budget.get("scope_id")
    return f"{scope} {ident}" if ident else str(scope)


_TIER_STYLES = {"economy": "yellow", "exceeded": "bold red"}

_COLUMNS = [
    Column("BUDGET", _for),
    column("PERIOD", "period"),
    column("FROM", "window_start"),
    Column("LIMIT", lambda w: _dollars(w.get("limit_cents"))),
    Column("SPENT", lambda w: _spent(w.get("spent_cents"))),
    Column("HELD", lambda w: _spent(w.get("reserved_cents"))),
    Column("USED", lambda w: _percent(w.get("utilisation"))),
    column("TIER", "tier", style=_TIER_STYLES.get),
    column("ON EXCEED", "on_exceed"),
    Column("UPDATED", lambda w: when(w.get("updated_at"))),
]


def _spent(value: object) -> str:
    return money(value / 100) if isinstance(value, int | float) else "-"


def _percent(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, int | float) else "-"


def _rows(budgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per budget window, carrying its budget's fields."""
    rows = []
    for b in budgets:
        head = {k: v for k, v in b.items() if k != "windows"}
        rows += [head | w for w in b.get("windows") or []] or [head]
    return rows


@app.command("show")
def show(ctx: typer.Context) -> None:
    """Every budget, with what its current month or week has spent and holds."""
    client, out = session(ctx)
    found = client.get("/budgets")
    if out.json_mode:
        out.json(found)
        return
    out.records(_COLUMNS, _rows(found.get("items") or []), empty="no budgets")


@app.command("set")
def set_budget(
    ctx: typer.Context,
    *,
    workspace_wide: WorkspaceWide = False,
    role: RoleScope = None,
    project: ProjectScope = None,
    agent: AgentScope = None,
    monthly: Annotated[
        str | None, typer.Option(help="Monthly limit in dollars, e.g. 500.00 (calendar month).")
    ] = None,
    weekly: Annotated[
        str | None, typer.Option(help="Weekly limit in dollars (ISO week, from Monday).")
    ] = None,
    on_exceed: Annotated[
        OnExceedName | None,
        typer.Option(help="Once spent: fall back to the cheapest model, or refuse the call."),
    ] = None,
) -> None:
    """Set (or replace) a budget. Amounts are in dollars with cents, sent as cents."""
    monthly_cents, weekly_cents = cents(monthly, "--monthly"), cents(weekly, "--weekly")
    if monthly_cents is None and weekly_cents is None:
        raise CliError("give --monthly and/or --weekly", exit_code=EXIT_USAGE)
    client, out, scope, scope_id = _scope(ctx, workspace_wide, role, project, agent)
    body = {
        "scope": scope,
        "scope_id": scope_id or None,
        "monthly_cents": monthly_cents,
        "weekly_cents": weekly_cents,
        "on_exceed": on_exceed,
    }
    budget = client.put("/budgets", {k: v for k, v in body.items() if v is not None})
    if out.json_mode:
        out.json(budget)
        return
    limits = [
        f"{_dollars(budget.get(key))} {period}"
        for key, period in (("monthly_cents", "a month"), ("weekly_cents", "a week"))
        if budget.get(key) is not None
    ]
    out.line(
        f"budget of {_for(budget)}: {' and '.join(limits)}, then {budget.get('on_exceed')}",
        "green",
    )


@app.command("remove")
def remove(
    ctx: typer.Context,
    *,
    workspace_wide: WorkspaceWide = False,
    role: RoleScope = None,
    project: ProjectScope = None,
    agent: AgentScope = None,
) -> None:
    """Remove a budget (what was spent stays in the usage report)."""
    client, out, scope, scope_id = _scope(ctx, workspace_wide, role, project, agent)
    path = f"/budgets/{segment(scope)}" + (f"/{segment(scope_id)}" if scope_id else "")
    client.delete(path)
    label = f"{scope} {scope_id}" if scope_id else scope
    if out.json_mode:
        out.json({"scope": scope, "scope_id": scope_id, "deleted": True})
        return
    out.line(f"removed the budget of {label}", "green")


def _scope(
    ctx: typer.Context,
    workspace_wide: bool,
    role: str | None,
    project: str | None,
    agent: str | None,
) -> tuple[ApiClient, Output, str, str]:
    """The session and exactly one of the scope options, as (scope, scope id),
    names resolved to ids. A usage mistake is told before any request."""
    given = [
        name
        for name, value in (
            ("--workspace-wide", workspace_wide),
            ("--role", role),
            ("--project", project),
            ("--agent", agent),
        )
        if value
    ]
    if len(given) != 1:
        raise CliError(
            "say whose budget: one of --workspace-wide, --role, --project, --agent"
            + (f" (got {', '.join(given)})" if given else ""),
            exit_code=EXIT_USAGE,
        )
    client, out = session(ctx)
    if role:
        return client, out, "role", role
    if project:
        return (
            client,
            out,
            "project",
            str(resolve(client, "projects", project, noun="project")["id"]),
        )
    if agent:
        return client, out, "agent", str(resolve(client, "agents", agent, noun="agent")["id"])
    return client, out, "workspace", ""

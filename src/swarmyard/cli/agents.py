"""``swarmyard agent``: install agents from the catalogue and manage them.

Agents are named by id or by name (see `refs`). Uninstalling is the one
destructive act here, so it asks first on a terminal and, when nobody can
answer (a script), insists on ``--yes``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .context import session, stdin_is_terminal
from .errors import EXIT_API, EXIT_USAGE, ApiError, CliError
from .formatting import Column, Item, column, money, status_style, text, when
from .refs import resolve, segment

__all__ = ["app"]

app = typer.Typer(help="Install, inspect, scale and pause agents.", no_args_is_help=True)

AgentRef = Annotated[str, typer.Argument(metavar="AGENT", help="Agent id or name.")]


def _load(agent: Item) -> str:
    return f"{text(agent.get('running'))}/{text(agent.get('replicas'))}"


_COLUMNS = [
    column("NAME", "name"),
    column("ID", "id"),
    column("ROLE", "role"),
    column("VERSION", "manifest_version"),
    column("STATUS", "status", style=status_style),
    column("HEALTH", "health", style=status_style),
    Column("RUNNING", _load),
    Column(
        "DONE/FAILED", lambda a: f"{text(a.get('tasks_succeeded'))}/{text(a.get('tasks_failed'))}"
    ),
    Column("COST", lambda a: money(a.get("cost_usd"))),
]


@app.command("list")
def list_agents(ctx: typer.Context) -> None:
    """List the installed agents."""
    client, out = session(ctx)
    items = client.list_all("/agents")
    if out.json_mode:
        out.json({"items": items, "next_cursor": None})
        return
    out.records(
        _COLUMNS, items, empty="no agents installed — try `swarmyard agent install developer`"
    )


@app.command("install")
def install(
    ctx: typer.Context,
    *,
    manifest: Annotated[
        str, typer.Argument(metavar="MANIFEST", help="Catalogue manifest id, e.g. developer.")
    ],
    replicas: Annotated[int | None, typer.Option(min=1, help="Tasks it may run at once.")] = None,
    version: Annotated[str | None, typer.Option(help="Manifest version (default: latest).")] = None,
    name: Annotated[
        str | None, typer.Option(help="Name of the agent (default: generated).")
    ] = None,
) -> None:
    """Install an agent from a catalogue manifest."""
    client, out = session(ctx)
    body = {"manifest": manifest, "version": version, "replicas": replicas, "name": name}
    try:
        agent = client.post("/agents", {k: v for k, v in body.items() if v is not None})
    except ApiError as exc:
        if exc.code == "missing_dependencies":
            exc.hints.append("install them, then run this again")
        raise
    if out.json_mode:
        out.json(agent)
        return
    out.line(
        f"installed {agent.get('name')} ({agent.get('id')}) from {agent.get('manifest_id')} "
        f"{agent.get('manifest_version')}, {agent.get('replicas')} replica(s)",
        "green",
    )


@app.command("show")
def show(ctx: typer.Context, agent: AgentRef) -> None:
    """Show one agent: status, health, load and counters."""
    client, out = session(ctx)
    found = resolve(client, "agents", agent, noun="agent")
    if out.json_mode:
        out.json(found)
        return
    keys = (
        "id",
        "name",
        "role",
        "manifest_id",
        "manifest_version",
        "status",
        "health",
        "replicas",
        "running",
        "load",
        "free_slots",
        "uptime_seconds",
        "tasks_succeeded",
        "tasks_failed",
        "tokens_in",
        "tokens_out",
        "errors",
    )
    pairs: list[tuple[str, object]] = [(key, found.get(key)) for key in keys]
    pairs += [("cost", money(found.get("cost_usd"))), ("created", when(found.get("created_at")))]
    out.fields(
        pairs, title=str(found.get("name")), styles={"status": status_style, "health": status_style}
    )


@app.command("scale")
def scale(
    ctx: typer.Context,
    *,
    agent: AgentRef,
    replicas: Annotated[int, typer.Argument(min=0, metavar="N", help="New number of replicas.")],
) -> None:
    """Change how many tasks an agent may run at once."""
    _patch(ctx, agent, {"replicas": replicas}, "scaled {name} to {replicas} replica(s)")


@app.command("pause")
def pause(ctx: typer.Context, agent: AgentRef) -> None:
    """Stop giving the agent new tasks (running ones finish)."""
    _patch(ctx, agent, {"status": "inactive"}, "paused {name}")


@app.command("resume")
def resume(ctx: typer.Context, agent: AgentRef) -> None:
    """Give the agent tasks again."""
    _patch(ctx, agent, {"status": "active"}, "resumed {name}")


def _patch(ctx: typer.Context, ref: str, body: dict[str, Any], done: str) -> None:
    client, out = session(ctx)
    agent_id = str(resolve(client, "agents", ref, noun="agent")["id"])
    agent = client.patch(f"/agents/{segment(agent_id)}", body)
    if out.json_mode:
        out.json(agent)
        return
    out.line(done.format(name=agent.get("name"), replicas=agent.get("replicas")), "green")


@app.command("uninstall")
def uninstall(
    ctx: typer.Context,
    *,
    agent: AgentRef,
    force: Annotated[
        bool, typer.Option("--force", help="Even if other agents depend on it.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Uninstall an agent."""
    client, out = session(ctx)
    found = resolve(client, "agents", agent, noun="agent")
    label = f"{found.get('name')} ({found.get('id')})"
    if not yes:
        if not stdin_is_terminal():
            raise CliError(
                f"pass --yes to uninstall {label} without a terminal", exit_code=EXIT_USAGE
            )
        if not typer.confirm(f"Uninstall {label}?", default=False):
            raise CliError(f"{label} was not uninstalled", exit_code=EXIT_API)
    try:
        client.delete(f"/agents/{segment(str(found['id']))}", {"force": force})
    except ApiError as exc:
        if exc.code == "has_dependants":
            exc.hints.append("pass --force to uninstall it anyway")
        raise
    if out.json_mode:
        out.json({"id": found.get("id"), "uninstalled": True})
        return
    out.line(f"uninstalled {label}", "green")

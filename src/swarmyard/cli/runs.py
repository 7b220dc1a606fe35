"""``swarmyard run``: one attempt of one agent on one task, step by step.

``run events --follow`` streams a run's events as they are appended and
resumes from the last one seen after a dropped connection; it exits 0 when
the run completed and 1 when it ended in error or was stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from .context import session
from .events import TERMINAL_RUN_EVENTS, describe, summarize
from .formatting import Column, column, money, status_style, text, when
from .refs import segment
from .stream import follow

if TYPE_CHECKING:
    from .client import ApiClient
    from .output import Output

__all__ = ["app"]

app = typer.Typer(help="Inspect, follow and stop runs.", no_args_is_help=True)

RunId = Annotated[str, typer.Argument(metavar="RUN", help="Run id.")]

_FINISHED = frozenset({"succeeded", "failed", "stopped", "timed_out"})
_EVENT_STYLES = {"error": "red", "completed": "green", "stopped": "yellow", "delegated": "cyan"}
_EVENT_COLUMNS = [
    column("SEQ", "seq"),
    Column("AT", lambda e: when(e.get("at"))),
    column("TYPE", "type", style=_EVENT_STYLES.get),
    Column("DETAIL", describe, max_width=100),
]


@app.command("show")
def show(ctx: typer.Context, run_id: RunId) -> None:
    """Show a run: status, model, steps, tokens, cost, output or error."""
    client, out = session(ctx)
    run = client.get(f"/runs/{segment(run_id)}")
    if out.json_mode:
        out.json(run)
        return
    keys = ("id", "task_id", "agent_id", "role", "status", "attempt", "model", "steps")
    pairs: list[tuple[str, object]] = [(key, run.get(key)) for key in keys]
    pairs += [
        ("tokens", f"{text(run.get('tokens_in'))} in, {text(run.get('tokens_out'))} out"),
        ("cost", money(run.get("cost_usd"))),
        ("stop requested", run.get("stop_requested")),
        ("created", when(run.get("created_at"))),
        ("started", when(run.get("started_at"))),
        ("finished", when(run.get("finished_at"))),
        ("error", run.get("error")),
        ("output", run.get("output")),
    ]
    out.fields(pairs, title=f"run {run.get('id')}", styles={"status": status_style})


@app.command("events")
def events(
    ctx: typer.Context,
    *,
    run_id: RunId,
    after: Annotated[int | None, typer.Option(min=0, help="Only events after this seq.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most this many.")] = None,
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep streaming until the run ends.")
    ] = False,
) -> None:
    """List a run's events (with --follow, stream them live)."""
    client, out = session(ctx)
    if not follow_:
        items = _history(client, run_id, after, limit)
        if out.json_mode:
            out.json({"items": items, "next_after": None})
        else:
            out.records(_EVENT_COLUMNS, items, empty="no events")
        return
    run = client.get(f"/runs/{segment(run_id)}")
    if run.get("status") in _FINISHED:
        for event in _history(client, run_id, after, limit):
            _print_event(out, event)
        raise typer.Exit(0 if run.get("status") == "succeeded" else 1)
    raise typer.Exit(_stream(client, out, run_id, after))


@app.command("stop")
def stop(ctx: typer.Context, run_id: RunId) -> None:
    """Ask a run to stop (it stops between steps)."""
    client, out = session(ctx)
    run = client.post(f"/runs/{segment(run_id)}/stop")
    if out.json_mode:
        out.json(run)
        return
    out.line(f"asked run {run.get('id')} to stop (now {run.get('status')})", "yellow")


def _history(
    client: ApiClient, run_id: str, after: int | None, limit: int | None
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while limit is None or len(items) < limit:
        page = client.get(f"/runs/{segment(run_id)}/events", {"after": after, "limit": limit})
        items.extend(page.get("items") or [])
        after = page.get("next_after")
        if after is None:
            break
    return items if limit is None else items[:limit]


def _stream(client: ApiClient, out: Output, run_id: str, after: int | None) -> int:
    last = ""
    stream = follow(
        client,
        f"/runs/{segment(run_id)}/stream",
        until=lambda event: event.event in TERMINAL_RUN_EVENTS,
        last_event_id=None if after is None else str(after),
    )
    for sse in stream:
        _print_event(out, sse.json())
        last = sse.event
    return 0 if last == "completed" else 1


def _print_event(out: Output, event: dict[str, Any]) -> None:
    if out.json_mode:
        out.json_line(event)
    else:
        out.line(
            f"#{event.get('seq')} {summarize(event)}", _EVENT_STYLES.get(str(event.get("type")))
        )

"""``swarmyard audit``: who did what in the workspace, newest first.

The server records sign-ins, refusals and every change with its actor.
``--since`` takes a moment (``2025-03-01``, ``2025-03-01T09:30``, read in
local time when no offset is given) or a span back from now (``90m``,
``12h``, ``7d``), because "what happened in the last hour" is the usual
question.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from .context import session
from .formatting import Column, column, text, when

__all__ = ["audit", "parse_since"]

_SPAN = re.compile(r"(\d+)\s*([smhdw])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RESULT_STYLES = {
    "success": "green",
    "ok": "green",
    "allowed": "green",
    "denied": "bold red",
    "failure": "red",
    "error": "red",
}

_COLUMNS = [
    Column("AT", lambda e: when(e.get("at"))),
    column("ACTOR", "actor"),
    column("ACTION", "action"),
    column("RESOURCE", "resource", max_width=40),
    column("RESULT", "result", style=_RESULT_STYLES.get),
    column("IP", "ip"),
    Column("DETAILS", lambda e: text(e.get("details") or None), max_width=60),
]


def parse_since(value: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    """`value` as the ISO timestamp the server takes."""
    span = _SPAN.fullmatch(value.strip().lower())
    if span:
        back = timedelta(**{_UNIT[span.group(2)]: int(span.group(1))})
        return (now() - back).isoformat(timespec="seconds")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a time (2025-03-01T09:30) nor a span (90m, 12h, 7d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # the person's local time
    return moment.isoformat(timespec="seconds")


def audit(
    ctx: typer.Context,
    *,
    actor: Annotated[
        str | None, typer.Option(help="Only this actor, e.g. user:usr-1 or api_key:key-1.")
    ] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. task.create.")] = None,
    since: Annotated[
        str | None, typer.Option(help="From this time (2025-03-01T09:30) or span ago (12h, 7d).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Page size (the server caps it).")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Where the previous page ended.")] = None,
) -> None:
    """Show the workspace's audit log, newest first."""
    params = {
        "actor": actor,
        "action": action,
        "since": parse_since(since) if since else None,
        "limit": limit,
        "cursor": cursor,
    }
    client, out = session(ctx)
    page = client.get("/audit", params)
    if out.json_mode:
        out.json(page)
        return
    out.records(_COLUMNS, page.get("items") or [], empty="no audit entries")
    if page.get("next_cursor"):
        out.note(f"more entries: add --cursor {page['next_cursor']}")

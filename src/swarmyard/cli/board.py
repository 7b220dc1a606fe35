"""``swarmyard board``: the Kanban board in a terminal.

The five columns work flows through sit side by side; blocked, failed and
cancelled cards, which leave the flow, are listed below with their counts.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .context import session
from .formatting import status_style
from .refs import names_by_id, resolve
from .vocab import BOARD_MAIN, BOARD_OTHER

__all__ = ["board", "card"]


def board(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="Project id or name.")] = None,
) -> None:
    """Show the board: a column per status, a card per task."""
    client, out = session(ctx)
    project_id = None
    if project is not None:
        project_id = resolve(client, "projects", project, noun="project")["id"]
    answer = client.get("/board", {"project": project_id})
    if out.json_mode:
        out.json(answer)
        return
    columns: dict[str, list[dict[str, Any]]] = answer.get("columns") or {}
    assigned = any(t.get("assignee_agent_id") for cards in columns.values() for t in cards)
    agents = names_by_id(client, "agents") if assigned else {}
    out.lanes(
        [(status, [card(t, agents) for t in columns.get(status, [])]) for status in BOARD_MAIN],
        status_style,
    )
    for status in BOARD_OTHER:
        cards = columns.get(status, [])
        out.line(f"{status} ({len(cards)})", status_style(status))
        for task in cards:
            out.line(f"  {card(task, agents)}")


def card(task: dict[str, Any], agents: dict[str, str]) -> str:
    """``title (role/assignee, priority)``."""
    who = str(task.get("required_role") or "any")
    assignee = task.get("assignee_agent_id")
    if assignee:
        who += "/" + agents.get(str(assignee), str(assignee))
    return f"{task.get('title')} ({who}, {task.get('priority') or 'normal'})"

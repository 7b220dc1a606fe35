"""What goes in a cell: values from the API turned into short text.

Commands declare their tables with `Column`s; `output` renders them. Kept
apart from `output` (which loads Rich) so command modules can be imported
at start-up for free.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "Column",
    "Item",
    "StyleFor",
    "column",
    "money",
    "status_style",
    "text",
    "when",
]

Item = Mapping[str, Any]
StyleFor = Callable[[str], str | None]

_STATUS_STYLES = {
    "backlog": "dim",
    "todo": "cyan",
    "in_progress": "yellow",
    "review": "magenta",
    "done": "green",
    "blocked": "bright_red",
    "failed": "bold red",
    "cancelled": "dim strike",
    "pending": "cyan",
    "running": "yellow",
    "succeeded": "green",
    "stopped": "dim",
    "timed_out": "red",
    "active": "green",
    "inactive": "dim",
    "updating": "yellow",
    "scaling": "yellow",
    "error": "bold red",
    "healthy": "green",
    "degraded": "yellow",
    "unhealthy": "red",
}


def status_style(value: str) -> str | None:
    return _STATUS_STYLES.get(value)


def text(value: object) -> str:
    """A value as one cell of text: ``-`` for nothing, lists joined."""
    if value is None or value in ("", []):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def money(value: object) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"${value:.4f}"


def when(value: object) -> str:
    """An ISO timestamp from the server, in local time, to the second."""
    if not isinstance(value, str) or not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    value: Callable[[Item], object]
    style: StyleFor | None = None
    max_width: int | None = None

    def cell(self, item: Item) -> str:
        # One line per record; leading spaces stay (they indent trees).
        return " ".join(text(self.value(item)).splitlines())


def column(
    header: str, key: str, *, style: StyleFor | None = None, max_width: int | None = None
) -> Column:
    """A column showing ``item[key]``."""
    return Column(header, lambda item: item.get(key), style, max_width)

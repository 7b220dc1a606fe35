"""How results reach the screen: Rich on a terminal, plain text in a pipe, JSON on request.

Commands describe *what* to show (columns of records, fields of one
object, lanes of a board, a live view); this module decides *how*. On a
terminal that means Rich tables and colours; when stdout is a pipe or a
file it means aligned plain text with no box drawing and no escape codes,
so ``grep``/``awk`` work; with ``--json`` the server's body is printed as
is. Rich is imported here, and this module only when a command runs.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import zip_longest
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .formatting import Column, Item, StyleFor, text

__all__ = ["LiveView", "Output"]


class Output:
    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        self.console = Console(file=sys.stdout, highlight=False)
        self.terminal = not json_mode and self.console.is_terminal

    def json(self, data: Any) -> None:
        self._write(json.dumps(data, indent=2, ensure_ascii=False, default=str))

    def json_line(self, data: Any) -> None:
        """One JSON document per line, for streams of events."""
        self._write(json.dumps(data, ensure_ascii=False, default=str))

    def line(self, message: str, style: str | None = None) -> None:
        if self.terminal:
            self.console.print(Text(message, style=style or ""))
        else:
            self._write(message)

    def note(self, message: str) -> None:
        """A hint for the person, kept out of stdout so pipes stay clean."""
        print(message, file=sys.stderr, flush=True)

    def records(
        self,
        columns: Sequence[Column],
        items: Sequence[Item],
        *,
        title: str | None = None,
        empty: str = "nothing to show",
    ) -> None:
        if not items:
            self.line(f"{title}: {empty}" if title else empty, "dim")
            return
        if not self.terminal:
            if title:
                self._write(title)
            self._plain(
                [c.header.upper() for c in columns], [[c.cell(i) for c in columns] for i in items]
            )
            return
        table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold")
        for c in columns:
            table.add_column(c.header, max_width=c.max_width, overflow="ellipsis")
        for item in items:
            table.add_row(*(_styled(c.cell(item), c.style) for c in columns))
        self.console.print(table)

    def fields(
        self,
        pairs: Sequence[tuple[str, object]],
        *,
        title: str | None = None,
        styles: Mapping[str, StyleFor] | None = None,
    ) -> None:
        """One object, a label and its value per line."""
        styles = styles or {}
        if not self.terminal:
            width = max((len(label) for label, _ in pairs), default=0) + 2
            if title:
                self._write(title)
            for label, value in pairs:
                lines = text(value).splitlines() or ["-"]
                self._write(f"{label + ':':<{width}}{lines[0]}".rstrip())
                for rest in lines[1:]:
                    self._write(f"{'':<{width}}{rest}".rstrip())
            return
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, value in pairs:
            grid.add_row(label, _styled(text(value), styles.get(label)))
        self.console.print(Panel(grid, title=title, title_align="left") if title else grid)

    def lanes(self, lanes: Sequence[tuple[str, Sequence[str]]], style: StyleFor) -> None:
        """Named lists side by side (the board's columns)."""
        headers = [f"{name} ({len(cards)})" for name, cards in lanes]
        rows = [[c or "" for c in row] for row in zip_longest(*(cards for _, cards in lanes))]
        if not self.terminal:
            self._plain([h.upper() for h in headers], rows)
            return
        table = Table(box=box.ROUNDED, show_lines=False, expand=True)
        for (name, _), header in zip(lanes, headers, strict=True):
            table.add_column(header, header_style=style(name) or "bold", ratio=1)
        for row in rows:
            table.add_row(*row)
        self.console.print(table)

    @contextmanager
    def live(self, columns: Sequence[Column], *, log_lines: int = 12) -> Iterator[LiveView]:
        """A display redrawn in place (terminal only)."""
        with Live(console=self.console, auto_refresh=False, transient=False) as live:
            yield LiveView(live, columns, log_lines)

    def _plain(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        widths = [max(len(cell) for cell in col) for col in zip(headers, *rows, strict=True)]
        for row in [headers, *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self._write("  ".join(cells).rstrip())

    def _write(self, line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class LiveView:
    """The records being watched over a scrolling log of what happened."""

    def __init__(self, live: Live, columns: Sequence[Column], log_lines: int) -> None:
        self._live = live
        self._columns = columns
        self._log_lines = log_lines

    def show(self, items: Sequence[Item], log: Sequence[str], *, title: str) -> None:
        self._live.update(self._render(items, log, title), refresh=True)

    def _render(self, items: Sequence[Item], log: Sequence[str], title: str) -> RenderableType:
        table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold")
        for c in self._columns:
            table.add_column(c.header, max_width=c.max_width, overflow="ellipsis", no_wrap=True)
        for item in items:
            table.add_row(*(_styled(c.cell(item), c.style) for c in self._columns))
        recent = Text("\n".join(log[-self._log_lines :]) or "waiting for events...")
        return Group(table, Panel(recent, title="events", title_align="left", border_style="dim"))


def _styled(value: str, style: StyleFor | None) -> Text:
    return Text(value, style=(style(value) if style else None) or "")

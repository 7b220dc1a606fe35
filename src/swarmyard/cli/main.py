"""The ``swarmyard`` command: global options, the command groups, error reporting.

Every command but ``serve`` is a thin HTTP client of a running server.
Failures end here, in `RootGroup.invoke`: a `CliError` becomes its message
on stderr and its exit code (1 the server refused, 2 usage, 3 no server),
never a traceback. Importing this module must stay cheap: no web framework,
database, model SDK, httpx or Rich (a test checks).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from . import agents, board, catalog, projects, runs, schedules, serve, status, tasks
from .context import CliState
from .errors import EXIT_API, EXIT_USAGE, CliError

__all__ = ["DEFAULT_URL", "app", "run"]

DEFAULT_URL = "http://127.0.0.1:8420"


class RootGroup(TyperGroup):
    """Runs a command and turns its failure into a short message and exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as exc:
            _report(exc.lines())
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            if _belongs_to_framework(exc) or os.environ.get("SWARMYARD_DEBUG"):
                raise
            _report(
                [
                    f"error: unexpected {type(exc).__name__}: {exc}",
                    "  (set SWARMYARD_DEBUG=1 to see where)",
                ]
            )
            raise typer.Exit(EXIT_API) from None


def _belongs_to_framework(exc: Exception) -> bool:
    """Typer's and Click's own exceptions (usage errors, exit, abort) and a
    closed pipe are theirs to handle."""
    module = type(exc).__module__
    return module.startswith(("typer", "click")) or isinstance(exc, BrokenPipeError)


def _report(lines: list[str]) -> None:
    first, *rest = lines
    typer.secho(first, err=True, fg="red")
    for line in rest:
        typer.echo(line, err=True)


app = typer.Typer(
    cls=RootGroup,
    name="swarmyard",
    help="Swarmyard: a team of role-based AI agents working through a Kanban board.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(agents.app, name="agent")
app.add_typer(projects.app, name="project")
app.add_typer(tasks.app, name="task")
app.add_typer(runs.app, name="run")
app.add_typer(schedules.app, name="schedule")
app.command("board")(board.board)
app.command("status")(status.status)
app.command("serve")(serve.serve)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"swarmyard {__version__}")
        raise typer.Exit()


def _check_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise typer.BadParameter(f"{value!r} is not an http:// or https:// address")
    return value


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str,
        typer.Option(
            "--url", envvar="SWARMYARD_URL", callback=_check_url, help="Address of the server."
        ),
    ] = DEFAULT_URL,
    workspace: Annotated[
        str,
        typer.Option(
            "--workspace", "-w", envvar="SWARMYARD_WORKSPACE", help="Workspace to act in."
        ),
    ] = "default",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the server's JSON instead of tables.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    if not workspace.strip():
        raise CliError("the workspace name is empty", exit_code=EXIT_USAGE)
    state = CliState(url=url, workspace=workspace, json_output=json_output)
    ctx.obj = state
    ctx.call_on_close(state.close)


def run() -> None:
    """Entry point of the ``swarmyard`` script."""
    app(prog_name="swarmyard")

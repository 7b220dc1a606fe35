"""The ``swarmyard`` command: global options, the command groups, error reporting.

Every command but the server commands (``serve``, ``api``, ``worker``,
``scheduler``) is a thin HTTP client of a running server,
and every one but ``status`` and ``login`` proves who is asking (see
`credentials` for where the credential comes from). Failures end here,
in `RootGroup.invoke`: a `CliError` becomes its message on stderr and its
exit code (1 the server refused, 2 usage, 3 no server), never a
traceback. Importing this module must stay cheap: no web framework,
database, model SDK, httpx or Rich (a test checks).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__
from . import (
    agents,
    apikeys,
    approvals,
    audit,
    board,
    budgets,
    catalog,
    cluster,
    login,
    mcp,
    models,
    policies,
    projects,
    providers,
    routing,
    runs,
    schedules,
    serve,
    skills,
    status,
    tasks,
    usage,
    users,
    workspaces,
)
from .context import CliState
from .credentials import DEFAULT_URL
from .errors import EXIT_API, EXIT_USAGE, CliError
from .store import default_data_dir

__all__ = ["DEFAULT_URL", "app", "run"]


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
app.add_typer(users.app, name="user")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(workspaces.app, name="workspace")
app.add_typer(budgets.app, name="budget")
app.add_typer(providers.app, name="providers")
app.add_typer(models.app, name="models")
app.add_typer(routing.app, name="routing")
app.add_typer(policies.app, name="policy")
app.add_typer(approvals.app, name="approval")
app.add_typer(mcp.app, name="mcp")
app.add_typer(skills.app, name="skill")
app.command("board")(board.board)
app.command("audit")(audit.audit)
app.command("usage")(usage.usage)
app.command("status")(status.status)
app.command("login")(login.login)
app.command("logout")(login.logout)
app.command("whoami")(login.whoami)
app.command("serve")(serve.serve)
app.command("api")(cluster.api)
app.command("worker")(cluster.worker)
app.command("scheduler")(cluster.scheduler)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"swarmyard {__version__}")
        raise typer.Exit()


def _check_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise typer.BadParameter(f"{value!r} is not an http:// or https:// address")
    return value


@app.callback()
def main(
    ctx: typer.Context,
    *,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="SWARMYARD_URL",
            callback=_check_url,
            help=f"Address of the server (default: the stored session's, else {DEFAULT_URL}).",
        ),
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="SWARMYARD_WORKSPACE",
            help="Workspace to act in (default: the stored session's, else 'default').",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="SWARMYARD_API_KEY",
            help="API key to act with (default: the session of `swarmyard login`, "
            "else the key in <data-dir>/credentials.json).",
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            envvar="SWARMYARD_DATA_DIR",
            file_okay=False,
            help="Where session.json and credentials.json live (default: ~/.swarmyard).",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the server's JSON instead of tables.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    if workspace is not None and not workspace.strip():
        raise CliError("the workspace name is empty", exit_code=EXIT_USAGE)
    if api_key is not None and not api_key.strip():
        raise CliError("the API key is empty", exit_code=EXIT_USAGE)
    source = ctx.get_parameter_source("api_key")
    from_env = source is not None and source.name == "ENVIRONMENT"
    state = CliState(
        url=url,
        workspace=workspace,
        api_key=api_key.strip() if api_key else None,
        data_dir=data_dir or default_data_dir(),
        json_output=json_output,
        api_key_source="SWARMYARD_API_KEY" if from_env else "--api-key",
    )
    ctx.obj = state
    ctx.call_on_close(state.close)


def run() -> None:
    """Entry point of the ``swarmyard`` script."""
    app(prog_name="swarmyard")

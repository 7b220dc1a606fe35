"""``swarmyard api``, ``swarmyard worker``, ``swarmyard scheduler``: the
processes of a cluster, each running one part of the platform against the
shared database and bus (``SWARMYARD_DATABASE_URL``, ``SWARMYARD_BUS_URL``).

Like ``serve`` these start a server rather than call one; options become
``SWARMYARD_*`` variables (see `launch`), and the runtime is imported only
when the process really starts — not when the settings already say it
cannot (the in-process bus), so that mistake is told at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .errors import EXIT_USAGE, CliError
from .launch import apply_options, load_settings, runtime_entry

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["api", "scheduler", "worker"]

RUNTIME_MODULE = "swarmyard.runtime.processes"

DataDir = Annotated[
    Path | None,
    typer.Option(file_okay=False, help="Where the key file and (SQLite) database live."),
]
HealthPort = Annotated[
    int | None,
    typer.Option(
        min=0,
        max=65535,
        help="Serve /healthz and /readyz on this port (default: SWARMYARD_HEALTH_PORT; 0: off).",
    ),
]


def api(
    ctx: typer.Context,
    *,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default 8420).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP API and board only (cluster mode; several may run)."""
    apply_options(ctx, {"host": host, "port": port}, data_dir)
    settings = _cluster_settings("api")
    runtime_entry(RUNTIME_MODULE, "run_api")(settings)


def worker(
    ctx: typer.Context,
    *,
    roles: Annotated[
        str | None,
        typer.Option(help="Comma-separated roles to serve, e.g. developer,tester (default: all)."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Most runs at once (default 200).")
    ] = None,
    health_port: HealthPort = None,
    host: Annotated[str | None, typer.Option(help="Address of the health endpoint.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run agent workers only (cluster mode; run as many as you like)."""
    options = {
        "worker_roles": roles,
        "worker_concurrency": concurrency,
        "health_port": health_port,
        "host": host,
    }
    apply_options(ctx, options, data_dir)
    settings = _cluster_settings("worker")
    runtime_entry(RUNTIME_MODULE, "run_worker")(settings)


def scheduler(
    ctx: typer.Context,
    *,
    health_port: HealthPort = None,
    host: Annotated[str | None, typer.Option(help="Address of the health endpoint.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run the orchestrator and scheduled jobs (cluster mode; one leads at a time)."""
    apply_options(ctx, {"health_port": health_port, "host": host}, data_dir)
    settings = _cluster_settings("scheduler")
    runtime_entry(RUNTIME_MODULE, "run_scheduler")(settings)


def _cluster_settings(process: str) -> Settings:
    """The settings, refused here (before the runtime loads) when they cannot
    make a cluster process."""
    settings = load_settings()
    problem = settings.cluster_problem(process)
    if problem is not None:
        raise CliError(problem, exit_code=EXIT_USAGE)
    return settings

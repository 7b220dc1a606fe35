"""``swarmyard serve``: run the whole platform in this process.

The one command that is not an HTTP client. Its options become
``SWARMYARD_*`` environment variables before the settings are read, so the
settings, and any process the server starts, see the same values; the
root's ``--data-dir`` counts when ``serve`` is not given its own, so the
server writes its key file where the other commands look for it. The
server runtime (web framework, database, models) is imported only here.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from .errors import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["serve"]

RUNTIME_MODULE = "swarmyard.runtime.server"


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default 8420).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(file_okay=False, help="Where the database and files live.")
    ] = None,
) -> None:
    """Run API, board, orchestrator, workers and scheduler in one process."""
    data_dir = data_dir or ctx.find_root().params.get("data_dir")
    overrides = {"SWARMYARD_HOST": host, "SWARMYARD_PORT": port, "SWARMYARD_DATA_DIR": data_dir}
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = str(value)
    settings = _settings()
    _runtime()(settings)


def _settings() -> Settings:
    # pydantic is loaded only by this command.
    from ..config import Settings  # noqa: PLC0415

    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError, naming each bad variable
        first, *rest = str(exc).splitlines() or ["invalid settings"]
        raise CliError(first, hints=rest, exit_code=EXIT_USAGE) from None


def _runtime() -> Callable[[Settings], None]:
    try:
        module = importlib.import_module(RUNTIME_MODULE)
    except ImportError as exc:
        raise CliError(f"the server runtime cannot be loaded: {exc}") from None
    return cast("Callable[[Settings], None]", module.serve_forever)

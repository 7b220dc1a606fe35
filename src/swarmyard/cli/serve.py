"""``swarmyard serve``: run the whole platform in this process.

The one-process deployment (SQLite and the in-process bus unless told
otherwise); `cluster` has the commands that each run one part of it. The
server runtime (web framework, database, models) is imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .launch import apply_options, load_settings, runtime_entry

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
    apply_options(ctx, {"host": host, "port": port}, data_dir)
    settings = load_settings()
    runtime_entry(RUNTIME_MODULE, "serve_forever")(settings)

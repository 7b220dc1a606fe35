"""What the server commands (``serve``, ``api``, ``worker``, ``scheduler``)
share: options become ``SWARMYARD_*`` variables, settings are read and
checked, and the runtime is imported only when a server really starts.

The options are written to the environment before the settings are read, so
the settings, and any process the server starts, see the same values; the
root's ``--data-dir`` counts when a command is not given its own. Importing
this module stays cheap: pydantic and the server runtime load on use.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer

from .errors import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from ..config import Settings

__all__ = ["apply_options", "load_settings", "runtime_entry"]


def apply_options(ctx: typer.Context, options: Mapping[str, Any], data_dir: Path | None) -> None:
    """Given options (not None) override the environment, `SWARMYARD_<NAME>`."""
    data_dir = data_dir or ctx.find_root().params.get("data_dir")
    for name, value in {**options, "data_dir": data_dir}.items():
        if value is not None:
            os.environ[f"SWARMYARD_{name.upper()}"] = str(value)


def load_settings() -> Settings:
    # pydantic is loaded only by the server commands.
    from ..config import Settings  # noqa: PLC0415

    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError, naming each bad variable
        first, *rest = str(exc).splitlines() or ["invalid settings"]
        raise CliError(first, hints=rest, exit_code=EXIT_USAGE) from None


def runtime_entry(module_name: str, function: str) -> Callable[[Settings], None]:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CliError(f"the server runtime cannot be loaded: {exc}") from None
    return cast("Callable[[Settings], None]", getattr(module, function))

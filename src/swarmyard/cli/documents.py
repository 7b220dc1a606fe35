"""Documents written by hand (manifests, policies, skill packs): a TOML or
JSON file named on the command line, read into the JSON object the API
takes; the server validates it."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import typer

from .errors import EXIT_USAGE, CliError

__all__ = ["document_file", "read_document"]


def document_file(help_text: str = "A .toml or .json file.") -> Any:
    """The FILE argument of a command that sends a document."""
    return typer.Argument(
        metavar="FILE", exists=True, dir_okay=False, readable=True, help=help_text
    )


def read_document(path: Path) -> dict[str, Any]:
    """The document (manifest, policy, skill pack) in `path` as a JSON-ready object."""
    raw = path.read_bytes()
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            raise CliError(f"{path} is neither .toml nor .json", exit_code=EXIT_USAGE)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        kind = path.suffix.lstrip(".").upper()
        raise CliError(f"{path} is not valid {kind}: {exc}", exit_code=EXIT_USAGE) from None
    if not isinstance(data, dict):
        raise CliError(f"{path} must hold one object (a table), not a list", exit_code=EXIT_USAGE)
    return {key: _jsonable(value) for key, value in data.items()}


def _jsonable(value: Any) -> Any:
    """TOML dates and times become ISO strings; everything else is JSON already."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value

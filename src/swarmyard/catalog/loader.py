"""Reading agent manifests: from text, from files and from the package.

Everything that turns outside input into an `AgentManifest` goes through
`parse_manifest`, so the API, the CLI and the built-in catalogue refuse the
same mistakes with the same words: one `ValidationFailed` listing every
problem with its field path. The 13 built-in roles are TOML files shipped
inside the package and read with `importlib.resources`, so they load the same
way from a checkout and from an installed wheel.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..domain import TASK_TYPES, AgentManifest, Problem, ValidationFailed
from ._documents import packaged, read_document
from ._problems import problem_sort_key, task_type_problems, validation_problems

__all__ = [
    "builtin_manifests",
    "load_manifest_file",
    "parse_manifest",
    "route_task_type",
    "task_type_routes",
]

_MANIFEST_DIR = "manifests"


def parse_manifest(
    data: Mapping[str, Any] | str | bytes,
    *,
    source: str = "<input>",
    fmt: str | None = None,
) -> AgentManifest:
    """Validate a manifest given as a mapping, or as TOML or JSON text.

    The text format is `fmt` when given, else the extension of `source`, else
    guessed from the content (a leading ``{`` means JSON). Raises
    `ValidationFailed("manifest", problems)` naming every problem found.
    """
    return _validate(read_document(data, what="manifest", source=source, fmt=fmt))


def load_manifest_file(path: str | os.PathLike[str]) -> AgentManifest:
    """Read and validate a manifest file (``.toml`` or ``.json``)."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        reason = f"manifest file {str(path)!r} does not exist"
        raise ValidationFailed("manifest", [Problem("", reason)]) from None
    except IsADirectoryError:
        reason = f"{str(path)!r} is a directory, not a manifest file"
        raise ValidationFailed("manifest", [Problem("", reason)]) from None
    except OSError as exc:
        reason = f"cannot read manifest file {str(path)!r}: {exc.strerror or exc}"
        raise ValidationFailed("manifest", [Problem("", reason)]) from None
    return parse_manifest(content, source=str(path))


def builtin_manifests() -> list[AgentManifest]:
    """The manifests of the built-in roles, sorted by id (read once per process)."""
    return list(_builtins())


def route_task_type(task_type: str) -> str | None:
    """The built-in role that takes tasks of `task_type` when a task names no role."""
    return _routes().get(task_type)


def task_type_routes() -> dict[str, str]:
    """Every known task type mapped to the built-in role that claims it."""
    return dict(_routes())


@cache
def _builtins() -> tuple[AgentManifest, ...]:
    return packaged(_MANIFEST_DIR, _packaged_manifest, "manifest")


def _packaged_manifest(raw: bytes, source: str) -> AgentManifest:
    return parse_manifest(raw, source=source, fmt="toml")


@cache
def _routes() -> dict[str, str]:
    # When two roles list a type, the one listing it in an earlier (more
    # primary) capability wins, then the alphabetically first role; the
    # catalogue's tests keep each type to exactly one role, so this tie-break
    # is only a guarantee of determinism.
    routes: dict[str, str] = {}
    for task_type in TASK_TYPES:
        claims = [
            (m.capabilities.index(cap), m.role)
            for m in _builtins()
            if (cap := m.capability_for(task_type)) is not None
        ]
        if claims:
            routes[task_type] = min(claims)[1]
    return routes


def _validate(data: Mapping[str, Any]) -> AgentManifest:
    problems = task_type_problems(data)
    manifest: AgentManifest | None = None
    try:
        manifest = AgentManifest.model_validate(data)
    except ValidationError as exc:
        # Should the schema itself learn the task types, keep the message
        # that lists the known ones rather than naming the same entry twice.
        seen = {p.path for p in problems}
        problems.extend(p for p in validation_problems(exc) if p.path not in seen)
    if problems or manifest is None:
        raise ValidationFailed("manifest", sorted(problems, key=problem_sort_key))
    return manifest

"""Reading agent manifests: from text, from files and from the package.

Everything that turns outside input into an `AgentManifest` goes through
`parse_manifest`, so the API, the CLI and the built-in catalogue refuse the
same mistakes with the same words: one `ValidationFailed` listing every
problem with its field path. The 13 built-in roles are TOML files shipped
inside the package and read with `importlib.resources`, so they load the same
way from a checkout and from an installed wheel.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..domain import TASK_TYPES, AgentManifest, Problem, ValidationFailed
from ._problems import (
    json_syntax_problem,
    problem_sort_key,
    task_type_problems,
    toml_syntax_problem,
    validation_problems,
)

__all__ = [
    "builtin_manifests",
    "load_manifest_file",
    "parse_manifest",
    "route_task_type",
    "task_type_routes",
]

_FORMATS = ("toml", "json")
_PACKAGE = "swarmyard.catalog"
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
    if isinstance(data, Mapping):
        return _validate(data)
    # A decoded request body can be anything JSON allows; answer it like bad text.
    if not isinstance(data, (str, bytes, bytearray)):
        raise _not_an_object(data)
    text = _decode(bytes(data) if isinstance(data, bytearray) else data, source)
    fmt = _choose_format(text, source, fmt)
    try:
        parsed: object = tomllib.loads(text) if fmt == "toml" else _load_json(text, source)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed("manifest", [toml_syntax_problem(exc, text, source)]) from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed("manifest", [json_syntax_problem(exc, source)]) from None
    if not isinstance(parsed, dict):
        raise _not_an_object(parsed)
    return _validate(parsed)


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
    folder = resources.files(_PACKAGE).joinpath(_MANIFEST_DIR)
    manifests: list[AgentManifest] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        source = f"{_PACKAGE.replace('.', '/')}/{_MANIFEST_DIR}/{entry.name}"
        manifest = parse_manifest(entry.read_bytes(), source=source, fmt="toml")
        # A mismatch here is a packaging mistake; failing loudly keeps the
        # catalogue from shipping a role under the wrong name.
        problems = []
        if manifest.id != entry.name.removesuffix(".toml"):
            problems.append(Problem("id", f"must match the file name of {source}"))
        if not manifest.builtin:
            problems.append(Problem("builtin", f"must be true in {source}"))
        if problems:
            raise ValidationFailed("built-in manifest", problems)
        manifests.append(manifest)
    return tuple(sorted(manifests, key=lambda m: m.id))


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


def _not_an_object(value: object) -> ValidationFailed:
    kind = "a list" if isinstance(value, list) else f"a {type(value).__name__}"
    if value is None:
        kind = "null"
    return ValidationFailed(
        "manifest", [Problem("", f"a manifest must be an object of keys, not {kind}")]
    )


def _choose_format(text: str, source: str, fmt: str | None) -> str:
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        if fmt not in _FORMATS:
            reason = f"unknown manifest format {fmt!r}; use one of: {', '.join(_FORMATS)}"
            raise ValidationFailed("manifest", [Problem("", reason)])
        return fmt
    suffix = Path(source).suffix.lower().lstrip(".")
    if suffix in _FORMATS:
        return suffix
    return "json" if text.lstrip().startswith("{") else "toml"


def _decode(data: str | bytes, source: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f" of {source}" if source != "<input>" else ""
        reason = f"not UTF-8 text: byte {exc.start}{where} cannot be decoded"
        raise ValidationFailed("manifest", [Problem("", reason)]) from None


def _load_json(text: str, source: str) -> object:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        # json.loads keeps the last of repeated keys silently; a manifest
        # edited by hand deserves to hear that one of its values is ignored.
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    parsed = json.loads(text, object_pairs_hook=pairs)
    if duplicates:
        where = f" in {source}" if source != "<input>" else ""
        problems = [Problem("", f"key {key!r} appears more than once{where}") for key in duplicates]
        raise ValidationFailed("manifest", problems)
    return parsed

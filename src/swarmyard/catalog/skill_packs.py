"""Reading skill packs: from a mapping, from TOML or JSON text, and the built-ins.

Packs go through the same kind of validation as agent manifests, with the
same wording: one `ValidationFailed("skill pack", problems)` naming every
problem with its field path. The built-in packs are TOML files shipped in
``skills/`` and read with `importlib.resources`; a broken one fails loudly
the first time the catalogue is read (a test reads it).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from ..domain import Problem, ValidationFailed
from ..domain.skill import SkillPack
from ._problems import (
    json_syntax_problem,
    problem_sort_key,
    toml_syntax_problem,
    validation_problems,
)

__all__ = ["builtin_skill_packs", "parse_skill_pack"]

_WHAT = "skill pack"
_PACKAGE = "swarmyard.catalog"
_SKILL_DIR = "skills"


def parse_skill_pack(
    data: Mapping[str, Any] | str | bytes, *, source: str = "<input>", fmt: str | None = None
) -> SkillPack:
    """Validate a pack given as a mapping, or as TOML or JSON text (`fmt`, else
    JSON when the text starts with ``{``). Raises `ValidationFailed`."""
    if isinstance(data, Mapping):
        return _validate(data)
    if not isinstance(data, (str, bytes)):
        raise _not_an_object(data)
    try:
        text = data if isinstance(data, str) else data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text: byte {exc.start} cannot be decoded"
        raise ValidationFailed(_WHAT, [Problem("", reason)]) from None
    text = text.removeprefix("\ufeff")
    fmt = fmt or ("json" if text.lstrip().startswith("{") else "toml")
    try:
        parsed: object = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(_WHAT, [toml_syntax_problem(exc, text, source)]) from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(_WHAT, [json_syntax_problem(exc, source)]) from None
    if not isinstance(parsed, dict):
        raise _not_an_object(parsed)
    return _validate(parsed)


def builtin_skill_packs() -> list[SkillPack]:
    """The shipped packs, sorted by id (read once per process)."""
    return list(_builtins())


@cache
def _builtins() -> tuple[SkillPack, ...]:
    folder = resources.files(_PACKAGE).joinpath(_SKILL_DIR)
    packs: list[SkillPack] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        source = f"{_PACKAGE.replace('.', '/')}/{_SKILL_DIR}/{entry.name}"
        pack = parse_skill_pack(entry.read_bytes(), source=source, fmt="toml")
        # A packaging mistake: the pack would ship under the wrong name.
        problems = []
        if pack.id != entry.name.removesuffix(".toml"):
            problems.append(Problem("id", f"must match the file name of {source}"))
        if not pack.builtin:
            problems.append(Problem("builtin", f"must be true in {source}"))
        if problems:
            raise ValidationFailed(f"built-in {_WHAT}", problems)
        packs.append(pack)
    return tuple(sorted(packs, key=lambda p: p.id))


def _validate(data: Mapping[str, Any]) -> SkillPack:
    try:
        return SkillPack.model_validate(data)
    except ValidationError as exc:
        problems = sorted(validation_problems(exc, SkillPack), key=problem_sort_key)
        raise ValidationFailed(_WHAT, problems) from None


def _not_an_object(value: object) -> ValidationFailed:
    kind = "null" if value is None else f"a {type(value).__name__}"
    if isinstance(value, list):
        kind = "a list"
    return ValidationFailed(
        _WHAT, [Problem("", f"a skill pack must be an object of keys, not {kind}")]
    )

"""Reading skill packs: from a mapping, from TOML or JSON text, and the built-ins.

Packs go through the same kind of validation as agent manifests, with the
same wording: one `ValidationFailed("skill pack", problems)` naming every
problem with its field path. The built-in packs are TOML files shipped in
``skills/`` and read with `importlib.resources`; a broken one fails loudly
the first time the catalogue is read (a test reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import ValidationError

from ..domain import ValidationFailed
from ..domain.skill import SkillPack
from ._documents import packaged, read_document
from ._problems import problem_sort_key, validation_problems

__all__ = ["builtin_skill_packs", "parse_skill_pack"]

_WHAT = "skill pack"
_SKILL_DIR = "skills"


def parse_skill_pack(
    data: Mapping[str, Any] | str | bytes, *, source: str = "<input>", fmt: str | None = None
) -> SkillPack:
    """Validate a pack given as a mapping, or as TOML or JSON text (read as
    manifests are: `fmt`, else the extension of `source`, else a leading
    ``{`` means JSON). Raises `ValidationFailed`."""
    return _validate(read_document(data, what=_WHAT, source=source, fmt=fmt))


def builtin_skill_packs() -> list[SkillPack]:
    """The shipped packs, sorted by id (read once per process)."""
    return list(_builtins())


@cache
def _builtins() -> tuple[SkillPack, ...]:
    return packaged(
        _SKILL_DIR, lambda raw, source: parse_skill_pack(raw, source=source, fmt="toml"), _WHAT
    )


def _validate(data: Mapping[str, Any]) -> SkillPack:
    try:
        return SkillPack.model_validate(data)
    except ValidationError as exc:
        problems = sorted(validation_problems(exc, SkillPack), key=problem_sort_key)
        raise ValidationFailed(_WHAT, problems) from None

"""Store repositories of skill packs: the custom packs a workspace published
(every version kept, like custom manifests) and the packs it installed.

Built-in packs are not stored: they come from the catalogue's files. An
installation names its pack by id, so it may name a built-in one.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from typing import Protocol

from ..domain.skill import SkillInstallation, SkillPack

__all__ = ["SkillInstallationRepo", "SkillPackRepo"]


class SkillPackRepo(Protocol):
    async def add(self, pack: SkillPack) -> None:
        """Raises Conflict if this id and version already exist."""
        ...

    async def get(self, pack_id: str, version: str | None = None) -> SkillPack | None:
        """The given version, or the highest one when `version` is None."""
        ...

    async def list(self, ids: Collection[str] | None = None) -> builtins.list[SkillPack]:
        """Every version of every pack (or only of the packs `ids` names), by
        id, then version in semver order."""
        ...


class SkillInstallationRepo(Protocol):
    async def add(self, installation: SkillInstallation) -> None:
        """Raises Conflict if the pack is already installed in the workspace."""
        ...

    async def get(self, pack_id: str) -> SkillInstallation:
        """Raises NotFound."""
        ...

    async def list(self, *, enabled: bool | None = None) -> builtins.list[SkillInstallation]:
        """By pack id; `enabled` keeps only the installations that are (or are not)."""
        ...

    async def update(self, installation: SkillInstallation) -> None:
        """Writes the version, roles, enabled flag and update time. Raises NotFound."""
        ...

    async def delete(self, pack_id: str) -> None:
        """Raises NotFound."""
        ...

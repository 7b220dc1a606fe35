"""The in-memory repositories of skill packs and installations (see `sql_skills.py`)."""

from __future__ import annotations

import builtins
from collections.abc import Collection

from swarmyard.domain import Conflict, NotFound
from swarmyard.domain.skill import SkillInstallation, SkillPack

from .memory_base import MemoryTx, freeze, thaw, thaw_all
from .skill_rows import SKILL_INSTALLATIONS, pack_from_row, pack_row

__all__ = ["MemorySkillInstallationRepo", "MemorySkillPackRepo"]

_CHANGEABLE = ("version", "roles", "enabled", "updated_at")


class MemorySkillPackRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.skill_packs

    async def add(self, pack: SkillPack) -> None:
        key = (self._tx.workspace_id, pack.id, pack.version)
        if self._tx.mine(self._table.get(key)) is not None:
            raise Conflict(f"skill pack {pack.id!r} version {pack.version} already exists")
        self._tx.put(self._table, key, pack_row(self._tx.workspace_id, pack))

    async def get(self, pack_id: str, version: str | None = None) -> SkillPack | None:
        found = self._tx.scan(
            self._table, lambda r: r["id"] == pack_id and version in (None, r["version"])
        )
        return max(map(pack_from_row, found), key=lambda p: p.version_tuple, default=None)

    async def list(self, ids: Collection[str] | None = None) -> builtins.list[SkillPack]:
        found = self._tx.scan(self._table, lambda r: ids is None or r["id"] in ids)
        return sorted(map(pack_from_row, found), key=lambda p: (p.id, p.version_tuple))


class MemorySkillInstallationRepo:
    def __init__(self, tx: MemoryTx) -> None:
        self._tx = tx
        self._table = tx.state.skill_installations

    async def add(self, installation: SkillInstallation) -> None:
        key = (self._tx.workspace_id, installation.pack_id)
        if self._tx.mine(self._table.get(key)) is not None:
            raise Conflict(f"skill pack {installation.pack_id!r} is already installed")
        self._tx.put(self._table, key, self._tx.freeze(SKILL_INSTALLATIONS, installation))

    async def get(self, pack_id: str) -> SkillInstallation:
        row = self._tx.mine(self._table.get((self._tx.workspace_id, pack_id)))
        if row is None:
            raise NotFound("skill installation", pack_id)
        return thaw(SKILL_INSTALLATIONS, row)

    async def list(self, *, enabled: bool | None = None) -> builtins.list[SkillInstallation]:
        found = self._tx.scan(self._table, lambda r: enabled is None or r["enabled"] == enabled)
        found.sort(key=lambda r: r["pack_id"])
        return thaw_all(SKILL_INSTALLATIONS, found)

    async def update(self, installation: SkillInstallation) -> None:
        key = (self._tx.workspace_id, installation.pack_id)
        if self._tx.mine(self._table.get(key)) is None:
            raise NotFound("skill installation", installation.pack_id)
        row = freeze(SKILL_INSTALLATIONS, SKILL_INSTALLATIONS.encode(installation))
        self._tx.change(self._table, key, **{name: row[name] for name in _CHANGEABLE})

    async def delete(self, pack_id: str) -> None:
        key = (self._tx.workspace_id, pack_id)
        if self._tx.mine(self._table.get(key)) is None:
            raise NotFound("skill installation", pack_id)
        self._tx.remove(self._table, key)

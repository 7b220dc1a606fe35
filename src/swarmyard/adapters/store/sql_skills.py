"""The SQL repositories of skill packs and their installations (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import builtins
from collections.abc import Collection

from sqlalchemy import delete, select, update

from swarmyard.domain import Conflict, NotFound
from swarmyard.domain.skill import SkillInstallation, SkillPack

from .rows import owned_row
from .skill_rows import SKILL_INSTALLATIONS, pack_from_row, pack_row
from .sql_base import SqlTx
from .tables_skills import skill_installations, skill_packs

__all__ = ["SqlSkillInstallationRepo", "SqlSkillPackRepo"]

_P = skill_packs.c
_I = skill_installations.c
_CHANGEABLE = ("version", "roles", "enabled", "updated_at")


class SqlSkillPackRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, pack: SkillPack) -> None:
        if not await self._tx.insert_new(skill_packs, pack_row(self._tx.workspace_id, pack)):
            raise Conflict(f"skill pack {pack.id!r} version {pack.version} already exists")

    async def get(self, pack_id: str, version: str | None = None) -> SkillPack | None:
        query = select(_P.data).where(self._tx.scoped(skill_packs), _P.id == pack_id)
        if version is not None:
            query = query.where(_P.version == version)
        found = [pack_from_row(r) for r in (await self._tx.execute(query)).mappings()]
        # Versions order numerically (1.10.0 > 1.9.0), which SQL text order cannot do.
        return max(found, key=lambda p: p.version_tuple, default=None)

    async def list(self, ids: Collection[str] | None = None) -> builtins.list[SkillPack]:
        query = select(_P.data).where(self._tx.scoped(skill_packs))
        if ids is not None:
            if not ids:
                return []
            query = query.where(_P.id.in_(sorted(ids)))
        found = [pack_from_row(r) for r in (await self._tx.execute(query)).mappings()]
        return sorted(found, key=lambda p: (p.id, p.version_tuple))


class SqlSkillInstallationRepo:
    def __init__(self, tx: SqlTx) -> None:
        self._tx = tx

    async def add(self, installation: SkillInstallation) -> None:
        row = owned_row(SKILL_INSTALLATIONS, installation, self._tx.workspace_id)
        if not await self._tx.insert_new(skill_installations, row):
            raise Conflict(f"skill pack {installation.pack_id!r} is already installed")

    async def get(self, pack_id: str) -> SkillInstallation:
        query = select(skill_installations).where(
            self._tx.scoped(skill_installations), _I.pack_id == pack_id
        )
        row = (await self._tx.execute(query)).mappings().first()
        if row is None:
            raise NotFound("skill installation", pack_id)
        return SKILL_INSTALLATIONS.decode(row)

    async def list(self, *, enabled: bool | None = None) -> builtins.list[SkillInstallation]:
        query = select(skill_installations).where(self._tx.scoped(skill_installations))
        if enabled is not None:
            query = query.where(_I.enabled == enabled)
        query = query.order_by(self._tx.bytewise(_I.pack_id))
        found = (await self._tx.execute(query)).mappings()
        return [SKILL_INSTALLATIONS.decode(r) for r in found]

    async def update(self, installation: SkillInstallation) -> None:
        row = SKILL_INSTALLATIONS.encode(installation)
        statement = (
            update(skill_installations)
            .where(self._tx.scoped(skill_installations), _I.pack_id == installation.pack_id)
            .values({name: row[name] for name in _CHANGEABLE})
        )
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("skill installation", installation.pack_id)

    async def delete(self, pack_id: str) -> None:
        statement = delete(skill_installations).where(
            self._tx.scoped(skill_installations), _I.pack_id == pack_id
        )
        if not (await self._tx.execute(statement)).rowcount:
            raise NotFound("skill installation", pack_id)

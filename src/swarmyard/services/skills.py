"""Skill packs of a workspace: the catalogue, publishing, installing, and the grant.

The catalogue is the built-in packs (answered from memory) plus the
workspace's custom ones (every version, from the store), so a pack
published through any process is visible to all of them. Publishing
follows the rules of custom manifests: a new id, or a version higher than
every published one; a built-in id is refused. An installation follows the
latest version unless pinned, and applies to the pack's roles unless it
names its own.

`grant` is what the agent loop asks at the start of each run: one unit of
work with at most two queries (the enabled installations, then the custom
packs they name), whatever the number of packs.
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, Final, Literal

from ..catalog import builtin_skill_packs
from ..domain import Conflict, NotFound, Problem, ValidationFailed
from ..domain.skill import (
    SkillGrant,
    SkillInstallation,
    SkillPack,
    grant_for,
    index_packs,
    resolve,
)
from ..ports import UnitOfWork
from .deps import Deps
from .workspace_cache import WorkspaceCache

__all__ = [
    "KEEP",
    "Keep",
    "SkillService",
    "installation_view",
    "skill_pack_view",
    "skill_summary_view",
]


class Keep(Enum):
    """A change that leaves a field as it is (None means something else)."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP

Installed = tuple[SkillInstallation, SkillPack | None]
Enabled = tuple[list[SkillInstallation], list[SkillPack]]


class SkillService:
    def __init__(
        self,
        deps: Deps,
        *,
        builtin: Iterable[SkillPack] | None = None,
        ttl_seconds: float = 5.0,
    ) -> None:
        self._d = deps
        # What `grant` reads at every run start: the enabled installations and their packs.
        self._enabled: WorkspaceCache[Enabled] = WorkspaceCache(ttl_seconds)
        shipped = builtin_skill_packs() if builtin is None else builtins.list(builtin)
        self._shipped = sorted(shipped, key=lambda p: (p.id, p.version_tuple))
        self._builtin_ids = frozenset(p.id for p in shipped)

    def is_builtin(self, pack_id: str) -> bool:
        return pack_id in self._builtin_ids

    async def catalogue(self, workspace_id: str) -> list[SkillPack]:
        """Every version of every pack: built-in ones first, then custom, by id and version."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            custom = await uow.skill_packs.list()
        return [*self._shipped, *custom]

    async def versions(self, workspace_id: str, pack_id: str) -> list[SkillPack]:
        """The versions of one pack, oldest first. Raises NotFound."""
        if self.is_builtin(pack_id):
            return [p for p in self._shipped if p.id == pack_id]
        async with self._d.store.unit_of_work(workspace_id) as uow:
            found = await uow.skill_packs.list([pack_id])
        if not found:
            raise NotFound("skill pack", pack_id)
        return found

    async def get(self, workspace_id: str, pack_id: str, version: str | None = None) -> SkillPack:
        """That version of a pack, or its latest. Raises NotFound."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            return await self._pack(uow, pack_id, version)

    async def publish(self, workspace_id: str, pack: SkillPack) -> SkillPack:
        """Publish a custom pack: a new id, or a higher version of a custom one."""
        problems: list[Problem] = []
        if self.is_builtin(pack.id):
            problems.append(
                Problem(
                    "id",
                    f"{pack.id!r} is the id of a built-in skill pack; "
                    "a custom pack needs an id of its own",
                )
            )
        if pack.builtin:
            problems.append(Problem("builtin", f"{pack.id!r}: only shipped packs can be built-in"))
        if problems:
            raise ValidationFailed("skill pack", problems)
        async with self._d.store.unit_of_work(workspace_id) as uow:
            latest = await uow.skill_packs.get(pack.id)
            if latest is not None and latest.version_tuple >= pack.version_tuple:
                raise Conflict(
                    f"skill pack {pack.id} version {pack.version} is not higher than the "
                    f"latest published version, {latest.version}; publish a higher version",
                    details={"id": pack.id, "version": pack.version, "latest": latest.version},
                )
            await uow.skill_packs.add(pack)  # Conflict when a concurrent twin won
            await uow.commit()
        self._enabled.forget(workspace_id)  # an installation may follow this pack's latest
        return pack

    async def install(
        self,
        workspace_id: str,
        pack_id: str,
        *,
        version: str | None = None,
        roles: Sequence[str] | None = None,
        enabled: bool = True,
        by: str,
    ) -> Installed:
        """Install a pack, following its latest version or pinned to `version`.
        Raises NotFound (the pack or that version), Conflict (already installed)."""
        now = self._d.clock.now()
        installation = SkillInstallation(
            workspace_id=workspace_id,
            pack_id=pack_id,
            installed_at=now,
            updated_at=now,
            installed_by=by,
            version=version,
            roles=None if roles is None else builtins.list(roles),
            enabled=enabled,
        )
        async with self._d.store.unit_of_work(workspace_id) as uow:
            pack = await self._pack(uow, pack_id, version)
            try:
                await uow.skill_installations.add(installation)
            except Conflict:
                raise Conflict(
                    f"skill pack {pack_id} is already installed; change its version, roles "
                    f"or state with PATCH /skill-installations/{pack_id}",
                    details={"id": pack_id},
                ) from None
            await uow.commit()
        self._enabled.forget(workspace_id)
        return installation, pack

    async def update(
        self,
        workspace_id: str,
        pack_id: str,
        *,
        version: str | Literal[Keep.KEEP] | None = KEEP,
        roles: Sequence[str] | Literal[Keep.KEEP] | None = KEEP,
        enabled: bool | None = None,
    ) -> Installed:
        """Pin an installation to a version (or None: follow the latest), change
        its roles (None: the pack's own), enable or disable it. Raises NotFound."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            installation = await uow.skill_installations.get(pack_id)
            if version is not KEEP:
                installation.version = version
            if roles is not KEEP:
                installation.roles = None if roles is None else builtins.list(roles)
            if enabled is not None:
                installation.enabled = enabled
            pack = await self._pack(uow, pack_id, installation.version)
            installation.updated_at = self._d.clock.now()
            await uow.skill_installations.update(installation)
            await uow.commit()
        self._enabled.forget(workspace_id)
        return installation, pack

    async def uninstall(self, workspace_id: str, pack_id: str) -> None:
        """Raises NotFound."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            await uow.skill_installations.delete(pack_id)
            await uow.commit()
        self._enabled.forget(workspace_id)

    async def installations(self, workspace_id: str) -> list[Installed]:
        """Every installation with the pack it stands for now (None when a
        pinned version is no longer in the catalogue), by pack id."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            found = await uow.skill_installations.list()
            index = index_packs(await self._packs_for(uow, found))
        return [(i, resolve(i, index)) for i in found]

    async def installation(self, workspace_id: str, pack_id: str) -> Installed:
        """Raises NotFound."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            found = await uow.skill_installations.get(pack_id)
            index = index_packs(await self._packs_for(uow, [found]))
        return found, resolve(found, index)

    async def grant(self, workspace_id: str, role: str) -> SkillGrant:
        """The instructions and tools the workspace's enabled packs give `role`'s runs."""
        load = functools.partial(self._read_enabled, workspace_id)
        found, packs = await self._enabled.get(workspace_id, load)
        return grant_for(role, found, packs) if found else SkillGrant()

    async def _read_enabled(self, workspace_id: str) -> Enabled:
        async with self._d.store.unit_of_work(workspace_id) as uow:
            found = await uow.skill_installations.list(enabled=True)
            return found, (await self._packs_for(uow, found) if found else [])

    async def _packs_for(
        self, uow: UnitOfWork, installations: Sequence[SkillInstallation]
    ) -> list[SkillPack]:
        """The built-in packs, and every version of the custom packs installed (one query)."""
        custom = {i.pack_id for i in installations} - self._builtin_ids
        return [*self._shipped, *(await uow.skill_packs.list(custom) if custom else [])]

    async def _pack(self, uow: UnitOfWork, pack_id: str, version: str | None) -> SkillPack:
        """That version of a pack, or its latest. Raises NotFound naming
        ``id@version`` when only the version is missing."""
        if self.is_builtin(pack_id):
            shipped = [p for p in self._shipped if p.id == pack_id]
            found = next((p for p in shipped if version in (None, p.version)), None)
            if version is None:
                found = shipped[-1]
        else:
            found = await uow.skill_packs.get(pack_id, version)
        if found is not None:
            return found
        if version is not None and (
            self.is_builtin(pack_id) or await uow.skill_packs.get(pack_id) is not None
        ):
            raise NotFound("skill pack", f"{pack_id}@{version}")
        raise NotFound("skill pack", pack_id)


def skill_pack_view(pack: SkillPack) -> dict[str, Any]:
    return pack.model_dump(mode="json")


def skill_summary_view(
    packs: Sequence[SkillPack], installed: SkillInstallation | None
) -> dict[str, Any]:
    """One pack of the catalogue: its latest version, every version, and
    whether the workspace installed it. `packs` are its versions, oldest first."""
    latest = packs[-1]
    return skill_pack_view(latest) | {
        "versions": [p.version for p in packs],
        "installed": installed is not None,
    }


def installation_view(installation: SkillInstallation, pack: SkillPack | None) -> dict[str, Any]:
    """An installation as the API shows it, with the version it stands for now."""
    roles = installation.roles if installation.roles is not None else (pack.roles if pack else [])
    return {
        "id": installation.pack_id,
        "pack": installation.pack_id,
        "name": pack.name if pack else None,
        "version": installation.version,
        "resolved_version": pack.version if pack else None,
        "roles": installation.roles,
        "applies_to": roles,
        "tools": pack.tools if pack else [],
        "enabled": installation.enabled,
        "installed_at": installation.installed_at.isoformat(),
        "installed_by": installation.installed_by,
        "updated_at": installation.updated_at.isoformat(),
    }

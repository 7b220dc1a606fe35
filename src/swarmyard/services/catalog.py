"""The catalogue a workspace sees: built-in manifests plus its custom ones.

Built-in manifests are answered from memory; custom ones are read from the
workspace's manifest table, so a manifest published through any process
is visible to all of them.
"""

from __future__ import annotations

from ..catalog import Catalog
from ..domain import AgentManifest, Conflict, NotFound
from ..ports import UnitOfWork
from .deps import Deps

__all__ = ["CatalogService"]


class CatalogService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._shipped = Catalog()

    async def view(self, uow: UnitOfWork) -> Catalog:
        """The workspace's whole catalogue (validated: no loops, no shadowed ids)."""
        custom = await uow.manifests.list()
        return self._shipped.with_custom(custom) if custom else self._shipped

    async def list(self, uow: UnitOfWork) -> list[AgentManifest]:
        """The latest version of every manifest: built-ins first, then custom, by id."""
        return (await self.view(uow)).list()

    async def get(
        self, uow: UnitOfWork, manifest_id: str, version: str | None = None
    ) -> AgentManifest:
        if self._shipped.is_builtin(manifest_id):
            return self._shipped.get(manifest_id, version)
        custom = await uow.manifests.get(manifest_id, version)
        if custom is None:
            raise NotFound("manifest", f"{manifest_id}@{version}" if version else manifest_id)
        return custom

    async def known_roles(self, uow: UnitOfWork) -> set[str]:
        return set((await self.view(uow)).roles())

    async def add(self, workspace_id: str, manifest: AgentManifest) -> AgentManifest:
        """Publish a custom manifest (a new id, or a new version of a custom id)."""
        async with self._d.store.unit_of_work(workspace_id) as uow:
            catalog = await self.view(uow)
            if manifest.id in catalog and manifest.version in catalog.versions(manifest.id):
                raise Conflict(
                    f"manifest {manifest.id} version {manifest.version} already "
                    "exists; publish a higher version",
                    details={"id": manifest.id, "version": manifest.version},
                )
            catalog.with_custom([manifest])  # refuses built-in ids and dependency loops
            await uow.manifests.add(manifest)
            await uow.commit()
        return manifest

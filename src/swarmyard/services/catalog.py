"""The catalogue a workspace sees: built-in manifests plus its custom ones.

Built-in manifests are answered from memory; custom ones are read from the
workspace's manifest table, so a manifest published through any process
is visible to all of them.
"""

from __future__ import annotations

from ..catalog import Catalog
from ..domain import AgentManifest, Conflict, NotFound
from ..domain.memo import BoundedMemo
from ..ports import UnitOfWork
from .deps import Deps

__all__ = ["CatalogService"]

_KEPT_VERSIONS = 512


class CatalogService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._shipped = Catalog()
        # Roles seen in each workspace's catalogue. Manifests are only ever
        # added, so a role once seen stays known: an answer that holds the
        # role asked about is right without a read (every task creation
        # asks); one that lacks it is read afresh, as a role may have been
        # published through another process since.
        self._roles_seen: dict[str, frozenset[str]] = {}
        # Published versions never change (a new one gets a new number), so a
        # custom manifest read by its version is kept: runs read their agent's
        # at every claim.
        self._versions: BoundedMemo[tuple[str, str, str], AgentManifest] = BoundedMemo(
            _KEPT_VERSIONS
        )

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
        if version is None:  # the latest: may be newer at every read
            return await self._custom(uow, manifest_id, None)
        key = (uow.workspace_id, manifest_id, version)
        kept = self._versions.get(key)
        if kept is None:
            kept = self._versions.put(key, await self._custom(uow, manifest_id, version))
        return kept

    async def _custom(
        self, uow: UnitOfWork, manifest_id: str, version: str | None
    ) -> AgentManifest:
        custom = await uow.manifests.get(manifest_id, version)
        if custom is None:
            raise NotFound("manifest", f"{manifest_id}@{version}" if version else manifest_id)
        return custom

    async def known_roles(self, uow: UnitOfWork, *, including: str | None = None) -> set[str]:
        """The workspace's roles. With `including`, an answer seen before
        serves if it holds that role (see `_roles_seen`)."""
        seen = self._roles_seen.get(uow.workspace_id)
        if including is not None and seen is not None and including in seen:
            return set(seen)
        roles = frozenset((await self.view(uow)).roles())
        self._roles_seen[uow.workspace_id] = roles
        return set(roles)

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
